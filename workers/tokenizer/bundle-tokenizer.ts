/**
 * Fixed-length tokenisation with a bundle's tokenizer.json through @huggingface/tokenizers: CLIP BPE for the text
 * encoder and the prior (SPEC §3), XLM-R Unigram for Kandinsky 2.1's multilingual encoder (docs/kandinsky-2-1.md).
 * Both pad to max_length and truncate keeping the end token (transformers' padding="max_length", truncation=True).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError, ErrorCode } from '../errors.ts';
import { checkTokenizerPatterns } from './patterns.ts';

/** The tokenizers a bundle holds, with the tokenizer.json model type each must be and its default pad token. */
export const TOKENIZER_KINDS = {
  /** CLIP BPE (text.tokenizer): transformers' CLIPTokenizer pads with <|endoftext|>. */
  clip: { model: 'BPE', label: 'CLIP BPE', padToken: '<|endoftext|>' },
  /** XLM-R Unigram (text_multilingual.tokenizer): XLMRobertaTokenizer pads with <pad>. */
  multilingual: { model: 'Unigram', label: 'XLM-R Unigram', padToken: '<pad>' },
} as const;
export type TokenizerKind = keyof typeof TOKENIZER_KINDS;

/** One prompt, ready for a text encoder (and the prior). */
export interface TokenEncoding {
  /** Token ids [maxLength]: start, tokens, end, then the pad id. */
  readonly inputIds: BigInt64Array;
  /** 1 for real tokens (start and end included), 0 for padding. */
  readonly attentionMask: BigInt64Array;
  /** True when the prompt had more tokens than fit; the end token is kept. */
  readonly truncated: boolean;
  /** Tokens the whole prompt needs, start and end included (more than maxLength when truncated). */
  readonly tokenCount: number;
}

/** A special token in tokenizer_config.json: a string or an AddedToken object. */
function tokenName(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

/** The model type a tokenizer.json declares (`model.type`), or a description of what is there instead. */
function modelType(json: object): string {
  const model = (json as { model?: unknown }).model;
  const type = typeof model === 'object' && model !== null ? (model as { type?: unknown }).type : undefined;
  if (typeof type === 'string') return type;
  // Older files omit model.type: a BPE model has merges, a Unigram one a vocab of [piece, score] pairs.
  if (typeof model === 'object' && model !== null && Array.isArray((model as { merges?: unknown }).merges)) return 'BPE';
  const vocab = typeof model === 'object' && model !== null ? (model as { vocab?: unknown }).vocab : undefined;
  if (Array.isArray(vocab)) return 'Unigram';
  return model === undefined ? 'no model' : 'an unknown model';
}

/** A tokenizer that pads and truncates like transformers' tokenizers with padding='max_length', truncation=True. */
export class BundleTokenizer {
  private constructor(
    /** Which of the bundle's tokenizers this is. */
    readonly kind: TokenizerKind,
    private readonly tokenizer: Tokenizer,
    /** Id appended after the last kept token when truncating. */
    readonly endId: number,
    /** Id that fills the sequence after the end token. */
    readonly padId: number,
    readonly maxLength: number,
  ) {}

  /**
   * Build from a tokenizer.json and (optional) tokenizer_config.json. `file` names the tokenizer.json in errors.
   * A file of the other kind (a CLIP BPE file where the XLM-R Unigram one belongs, or the reverse) is BAD_MANIFEST.
   */
  static fromJson(kind: TokenizerKind, tokenizerJson: unknown, config: unknown | null, maxLength = 77, file = 'tokenizer.json'): BundleTokenizer {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null) {
      throw new EngineError(ErrorCode.BadManifest, `${file} is not a JSON object; re-export the bundle with a Hugging Face tokenizer.json`, {
        file, expected: 'object', actual: typeof tokenizerJson,
      });
    }
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new RangeError(`BundleTokenizer: maxLength must be an integer >= 2, got ${maxLength}`);
    }
    const want = TOKENIZER_KINDS[kind];
    const type = modelType(tokenizerJson);
    if (type !== want.model) {
      throw new EngineError(
        ErrorCode.BadManifest,
        `${file} holds a "${type}" tokenizer, but a ${want.label} tokenizer (model type "${want.model}") is expected here. `
        + 'The bundle\'s tokenizer files are swapped or from another model; re-export the bundle.',
        { file, expected: `model.type: "${want.model}" (${want.label})`, actual: `model.type: "${type}"` },
      );
    }
    // Before the library compiles anything: a pathological split regex would freeze the worker on encode.
    checkTokenizerPatterns(tokenizerJson, file);
    const cfg = typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, cfg);
    } catch (e) {
      throw new EngineError(ErrorCode.BadManifest, `${file} could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { file });
    }
    // The post-processor wraps every text in start/end tokens; the empty prompt shows which.
    const bare = tokenizer.encode('').ids;
    const lastId = bare[bare.length - 1];
    if (bare.length < 2 || lastId === undefined) {
      throw new EngineError(ErrorCode.BadManifest, `${file} adds no start/end tokens; a ${want.label} tokenizer (RobertaProcessing or TemplateProcessing post-processor) is expected`, {
        file, expected: '[start, end] for an empty prompt', actual: JSON.stringify(bare),
      });
    }
    const idOf = (key: string): number | null => {
      const name = tokenName(cfg[key]);
      if (name === null) return null;
      const id = tokenizer.token_to_id(name);
      if (id === undefined) {
        throw new EngineError(ErrorCode.BadManifest, `tokenizer_config.json names ${key} "${name}", which is not in the tokenizer's vocabulary`, {
          file: 'tokenizer_config.json', expected: `a token of tokenizer.json as ${key}`, actual: name,
        });
      }
      return id;
    };
    const endId = idOf('eos_token') ?? lastId;
    // transformers pads with the kind's pad token (CLIP <|endoftext|>, XLM-R <pad>) unless the config names another.
    const padId = idOf('pad_token') ?? tokenizer.token_to_id(want.padToken) ?? endId;
    return new BundleTokenizer(kind, tokenizer, endId, padId, maxLength);
  }

  /** Tokenise one prompt: start + tokens + end, truncated to maxLength keeping the end token, then padded. */
  encode(prompt: string): TokenEncoding {
    const ids = this.tokenizer.encode(prompt).ids;
    const n = this.maxLength;
    const truncated = ids.length > n;
    const kept = truncated ? [...ids.slice(0, n - 1), this.endId] : ids;
    const inputIds = new BigInt64Array(n).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(n);
    kept.forEach((id, i) => {
      inputIds[i] = BigInt(id);
      attentionMask[i] = 1n;
    });
    return { inputIds, attentionMask, truncated, tokenCount: ids.length };
  }
}
