/**
 * The regular expressions a bundle's tokenizer.json may carry (README "Tokenizer patterns").
 * Tokenising runs synchronously in the worker, so cancel cannot stop it: a pattern such as `(a+)+$`
 * backtracks exponentially (49 s for a 29-character prompt). Only the patterns of the tokenizer
 * families we support are accepted; literal `String` patterns and the library's built-in splitters
 * (ByteLevel, Whitespace, Metaspace, ...) need no entry. Add a family's patterns here, verbatim from its
 * original tokenizer.json, when the app learns to load it.
 */
import { EngineError, ErrorCode } from '../errors.ts';

/** The parts of tokenizer.json whose `{"Regex": ...}` patterns run on every prompt. */
export const PATTERN_COMPONENTS = ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const;
export type PatternComponent = (typeof PATTERN_COMPONENTS)[number];

/** One known-safe pattern: where it may appear and which family's tokenizer it comes from. */
export interface SafePattern {
  readonly family: string;
  readonly component: PatternComponent;
  readonly regex: string;
}

/** The known-safe set: linear-time patterns (no nested quantifiers) of the supported families. */
export const SAFE_TOKENIZER_PATTERNS: readonly SafePattern[] = [
  // CLIP BPE (openai/clip-vit-large-patch14, laion CLIP-ViT-bigG-14: Kandinsky 2.2): transformers' CLIPTokenizerFast.
  { family: 'clip', component: 'normalizer', regex: '\\s+' },
  {
    family: 'clip', component: 'pre_tokenizer',
    regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
  },
  // XLM-R Unigram (xlm-roberta-large, Kandinsky 2.1's M-CLIP text encoder, text_multilingual): Precompiled + this
  // Replace, then Metaspace.
  { family: 'xlm-roberta', component: 'normalizer', regex: ' {2,}' },
];

const show = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** Calls `visit` for every `{"Regex": ...}` below `node`, with its JSON path. */
function eachRegex(node: unknown, path: string, visit: (regex: unknown, path: string) => void): void {
  if (Array.isArray(node)) {
    node.forEach((x, i) => eachRegex(x, `${path}[${i}]`, visit));
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'Regex') visit(v, path);
    else eachRegex(v, `${path}.${k}`, visit);
  }
}

/**
 * Refuses a tokenizer.json with a regex outside SAFE_TOKENIZER_PATTERNS: EngineError(BAD_MANIFEST)
 * naming the field and the pattern. `file` names tokenizer.json in the message.
 */
export function checkTokenizerPatterns(tokenizerJson: object, file = 'tokenizer.json'): void {
  for (const component of PATTERN_COMPONENTS) {
    eachRegex((tokenizerJson as Record<string, unknown>)[component], component, (regex, path) => {
      const safe = typeof regex === 'string' && SAFE_TOKENIZER_PATTERNS.some((p) => p.component === component && p.regex === regex);
      if (safe) return;
      const shown = typeof regex === 'string' ? show(regex) : String(regex);
      throw new EngineError(
        ErrorCode.BadManifest,
        `${file}: ${path} uses the regex ${shown}, which is not a known-safe pattern of a supported tokenizer (CLIP BPE, XLM-R Unigram). `
        + 'A bundle\'s pattern could stall tokenising for minutes, and that cannot be cancelled; use the original tokenizer.json of the model.',
        { file, expected: `${path}: one of the known-safe ${component} patterns (README "Tokenizer patterns")`, actual: shown },
      );
    });
  }
}
