/** The CLIP BPE tokenizer of a bundle (text.tokenizer; SPEC §3: pad and truncate to 77): a BundleTokenizer of kind 'clip'. */
import { BundleTokenizer, type TokenEncoding } from './bundle-tokenizer.ts';

/** One prompt, ready for the CLIP text encoder and the prior. */
export type ClipEncoding = TokenEncoding;
/** A loaded CLIP tokenizer. */
export type ClipTokenizer = BundleTokenizer;

/** Builds CLIP tokenizers; a tokenizer.json of another kind (XLM-R Unigram) is BAD_MANIFEST. */
export const ClipTokenizer = {
  /** Build from the bundle's tokenizer.json and (optional) tokenizer_config.json. */
  fromJson(tokenizerJson: unknown, config: unknown | null, maxLength = 77, file = 'tokenizer.json'): ClipTokenizer {
    return BundleTokenizer.fromJson('clip', tokenizerJson, config, maxLength, file);
  },
} as const;
