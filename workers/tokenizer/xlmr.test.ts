import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.ts';
import { thrownEngineError } from '../testing/engine-error.ts';
import { ClipTokenizer } from './clip.ts';
import { XlmRobertaTokenizer } from './xlmr.ts';

const read = (path: string): any => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
// A toy Unigram vocabulary with XLM-R's pipeline and special ids; cases from transformers (testdata/make_xlmr_tiny.py).
const xlmrJson = read('./testdata/xlmr-tiny/tokenizer.json');
const xlmrConfig = read('./testdata/xlmr-tiny/tokenizer_config.json');
const cases = read('./testdata/xlmr-tiny-cases.json') as { prompt: string; input_ids: number[]; attention_mask: number[]; token_count: number }[];
const clipJson = read('../../public/models/tiny-kandinsky-2-2/tokenizer/tokenizer.json');

describe('XlmRobertaTokenizer', () => {
  const tok = XlmRobertaTokenizer.fromJson(xlmrJson, xlmrConfig);

  it('gives the ids and mask transformers gives (padding="max_length", truncation=True, 77): English, Russian, mixed, empty, over-long', () => {
    for (const c of cases) {
      const enc = tok.encode(c.prompt);
      expect(Array.from(enc.inputIds, Number), c.prompt).toEqual(c.input_ids);
      expect(Array.from(enc.attentionMask, Number), c.prompt).toEqual(c.attention_mask);
      expect(enc.tokenCount).toBe(c.token_count);
      expect(enc.truncated).toBe(c.token_count > 77);
    }
  });

  it('pads with <pad> (1) and keeps </s> (2) when truncating', () => {
    expect(tok.padId).toBe(1);
    expect(tok.endId).toBe(2);
    const long = tok.encode('cat '.repeat(200));
    expect(long.truncated).toBe(true);
    expect(Number(long.inputIds[0])).toBe(0);
    expect(Number(long.inputIds[76])).toBe(2);
    expect(long.attentionMask.every((m) => m === 1n)).toBe(true);
    // Without a tokenizer_config.json the kind's own pad token is used.
    expect(XlmRobertaTokenizer.fromJson(xlmrJson, null).padId).toBe(1);
  });

  it('refuses a CLIP BPE file where the XLM-R Unigram one belongs, and the reverse, naming the file and the model type', () => {
    const e = thrownEngineError(() => XlmRobertaTokenizer.fromJson(clipJson, null, 77, 'tokenizer_multilingual/tokenizer.json'));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/^tokenizer_multilingual\/tokenizer\.json holds a "BPE" tokenizer, but a XLM-R Unigram tokenizer \(model type "Unigram"\) is expected/);
    expect(e.details).toEqual({ file: 'tokenizer_multilingual/tokenizer.json', expected: 'model.type: "Unigram" (XLM-R Unigram)', actual: 'model.type: "BPE"' });
    const r = thrownEngineError(() => ClipTokenizer.fromJson(xlmrJson, null, 77, 'tokenizer/tokenizer.json'));
    expect(r.code).toBe(ErrorCode.BadManifest);
    expect(r.details).toMatchObject({ file: 'tokenizer/tokenizer.json', expected: 'model.type: "BPE" (CLIP BPE)', actual: 'model.type: "Unigram"' });
    // A file with no model section at all is named too.
    expect(thrownEngineError(() => XlmRobertaTokenizer.fromJson({}, null)).details.actual).toBe('model.type: "no model"');
  });

  it('keeps the regex safety table in force: XLM-R\'s own Replace pattern passes, any other regex is BAD_MANIFEST', () => {
    const edited = structuredClone(xlmrJson);
    edited.normalizer.normalizers[0].pattern = { Regex: '( +)+$' };
    const e = thrownEngineError(() => XlmRobertaTokenizer.fromJson(edited, null, 77, 'tokenizer_multilingual/tokenizer.json'));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/^tokenizer_multilingual\/tokenizer\.json: normalizer\.normalizers\[0\]\.pattern uses the regex "\( \+\)\+\$"/);
  });
});
