/**
 * Kandinsky 2.1's multilingual tokenizer (text_multilingual.tokenizer, docs/kandinsky-2-1.md): XLM-R Unigram,
 * `<s> … </s>`, padded with `<pad>` and truncated to max_length keeping `</s>` (diffusers' KandinskyPipeline
 * `_encode_prompt`: padding="max_length", truncation=True, max_length=77); a BundleTokenizer of kind 'multilingual'.
 */
import { BundleTokenizer } from './bundle-tokenizer.ts';

/** A loaded XLM-R tokenizer. */
export type XlmRobertaTokenizer = BundleTokenizer;

/** Builds XLM-R tokenizers; a tokenizer.json of another kind (CLIP BPE) is BAD_MANIFEST. */
export const XlmRobertaTokenizer = {
  /** Build from the bundle's multilingual tokenizer.json and (optional) tokenizer_config.json. */
  fromJson(tokenizerJson: unknown, config: unknown | null, maxLength = 77, file = 'tokenizer_multilingual/tokenizer.json'): XlmRobertaTokenizer {
    return BundleTokenizer.fromJson('multilingual', tokenizerJson, config, maxLength, file);
  },
} as const;
