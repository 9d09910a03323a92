/** CLIP BPE tokenisation with the bundle's tokenizer.json (SPEC §3: pad and truncate to 77). */
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError, ErrorCode } from '../errors.ts';
import { checkTokenizerPatterns } from './patterns.ts';

/** One prompt, ready for the text encoder and the prior. */
export interface ClipEncoding {
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

/** CLIP tokenizer that pads and truncates like transformers' CLIPTokenizer(padding='max_length', truncation=True). */
export class ClipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Id appended after the last kept token when truncating. */
    readonly endId: number,
    /** Id that fills the sequence after the end token. */
    readonly padId: number,
    readonly maxLength: number,
  ) {}

  /** Build from the bundle's tokenizer.json and (optional) tokenizer_config.json. */
  static fromJson(tokenizerJson: unknown, config: unknown | null, maxLength = 77): ClipTokenizer {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null) {
      throw new EngineError(ErrorCode.BadManifest, 'tokenizer.json is not a JSON object; re-export the bundle with a Hugging Face tokenizer.json', {
        file: 'tokenizer.json', expected: 'object', actual: typeof tokenizerJson,
      });
    }
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new RangeError(`ClipTokenizer: maxLength must be an integer >= 2, got ${maxLength}`);
    }
    // Before the library compiles anything: a pathological split regex would freeze the worker on encode.
    checkTokenizerPatterns(tokenizerJson);
    const cfg = typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, cfg);
    } catch (e) {
      throw new EngineError(ErrorCode.BadManifest, `tokenizer.json could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { file: 'tokenizer.json' });
    }
    // The post-processor wraps every text in start/end tokens; the empty prompt shows which.
    const bare = tokenizer.encode('').ids;
    const lastId = bare[bare.length - 1];
    if (bare.length < 2 || lastId === undefined) {
      throw new EngineError(ErrorCode.BadManifest, 'tokenizer.json adds no start/end tokens; a CLIP tokenizer (RobertaProcessing or TemplateProcessing post-processor) is expected', {
        file: 'tokenizer.json', expected: '[start, end] for an empty prompt', actual: JSON.stringify(bare),
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
    // transformers' CLIPTokenizer pads with <|endoftext|> unless the config names another pad token.
    const padId = idOf('pad_token') ?? tokenizer.token_to_id('<|endoftext|>') ?? endId;
    return new ClipTokenizer(tokenizer, endId, padId, maxLength);
  }

  /** Tokenise one prompt: start + tokens + end, truncated to maxLength keeping the end token, then padded. */
  encode(prompt: string): ClipEncoding {
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
