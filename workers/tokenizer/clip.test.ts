import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { ClipTokenizer } from './clip.ts';

const bundleDir = new URL('../../public/models/tiny-kandinsky-2-2/tokenizer/', import.meta.url);
const tokenizerJson: unknown = JSON.parse(readFileSync(new URL('tokenizer.json', bundleDir), 'utf8'));
const tokenizerConfig: unknown = JSON.parse(readFileSync(new URL('tokenizer_config.json', bundleDir), 'utf8'));
const golden = JSON.parse(readFileSync(new URL('../../tests/golden/tokenizer.json', import.meta.url), 'utf8')) as {
  cases: { prompt: string; input_ids: number[]; attention_mask: number[] }[];
};

const tok = ClipTokenizer.fromJson(tokenizerJson, tokenizerConfig);
const START = 49406;
const END = 49407;

describe('ClipTokenizer', () => {
  it('reads pad and end ids from the config', () => {
    expect(tok.padId).toBe(END);
    expect(tok.endId).toBe(END);
    expect(tok.maxLength).toBe(77);
  });

  for (const c of golden.cases) {
    it(`matches the reference for ${JSON.stringify(c.prompt.slice(0, 40))}`, () => {
      const enc = tok.encode(c.prompt);
      expect(Array.from(enc.inputIds, Number)).toEqual(c.input_ids);
      expect(Array.from(enc.attentionMask, Number)).toEqual(c.attention_mask);
      const real = c.attention_mask.reduce((a, b) => a + b, 0);
      expect(enc.truncated).toBe(enc.tokenCount > 77);
      if (!enc.truncated) expect(enc.tokenCount).toBe(real);
    });
  }

  it('truncates a 2,000-character prompt to 77 tokens ending with the end token', () => {
    const prompt = 'a watercolour painting of a fox in a snowy forest, '.repeat(40).slice(0, 2000);
    expect(prompt.length).toBe(2000);
    const enc = tok.encode(prompt);
    expect(enc.truncated).toBe(true);
    expect(enc.tokenCount).toBeGreaterThan(77);
    expect(enc.inputIds.length).toBe(77);
    expect(enc.inputIds[0]).toBe(BigInt(START));
    expect(enc.inputIds[76]).toBe(BigInt(END));
    expect(Array.from(enc.attentionMask).every((m) => m === 1n)).toBe(true);
    // The kept tokens are the prompt's first 75.
    const short = tok.encode('a watercolour painting of a fox');
    expect(Array.from(enc.inputIds.slice(1, 7))).toEqual(Array.from(short.inputIds.slice(1, 7)));
  });

  it('encodes Cyrillic, emoji and other scripts without throwing', () => {
    for (const prompt of ['Кот в сапогах, акварель', 'Рыжая лиса 🦊 в снегу ❄️', '🎨🖌️👩‍🎨', '東京の夜景', 'naïve café\u0000\uFFFD', '\uD83D']) {
      const enc = tok.encode(prompt);
      expect(enc.inputIds.length).toBe(77);
      expect(enc.inputIds[0]).toBe(BigInt(START));
      const real = Array.from(enc.attentionMask).filter((m) => m === 1n).length;
      expect(real).toBeGreaterThanOrEqual(2);
      expect(enc.inputIds[real - 1]).toBe(BigInt(END));
    }
  });

  it('pads with the pad token the config names', () => {
    const cfg = { ...(tokenizerConfig as Record<string, unknown>), pad_token: '!' };
    const t = ClipTokenizer.fromJson(tokenizerJson, cfg);
    const enc = t.encode('horse');
    expect(Array.from(enc.inputIds.slice(0, 4), Number)).toEqual([START, 4558, END, 0]);
    expect(Array.from(enc.attentionMask.slice(0, 4), Number)).toEqual([1, 1, 1, 0]);
  });

  it('works without a tokenizer_config.json and with another max length', () => {
    const t = ClipTokenizer.fromJson(tokenizerJson, null, 8);
    const enc = t.encode('a very long prompt a very long prompt');
    expect(enc.inputIds.length).toBe(8);
    expect(enc.truncated).toBe(true);
    expect(enc.inputIds[7]).toBe(BigInt(END));
  });

  it('rejects a broken tokenizer with BAD_MANIFEST', () => {
    const err = (f: () => unknown): EngineError => {
      try {
        f();
      } catch (e) {
        return e as EngineError;
      }
      throw new Error('did not throw');
    };
    expect(err(() => ClipTokenizer.fromJson('nope', null)).code).toBe(ErrorCode.BadManifest);
    const e = err(() => ClipTokenizer.fromJson(tokenizerJson, { pad_token: '<|no-such-token|>' }));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/pad_token/);
  });

  describe('tokenizer patterns (issue 13)', () => {
    /** A copy of the real tokenizer.json with one edit. */
    const edited = (edit: (t: Record<string, any>) => void): Record<string, any> => {
      const real = tokenizerJson as Record<string, any>;
      // Deep copies of the parts with patterns only: the vocabulary is large and stays shared.
      const t = { ...real, normalizer: structuredClone(real.normalizer), pre_tokenizer: structuredClone(real.pre_tokenizer), decoder: structuredClone(real.decoder) };
      edit(t);
      return t;
    };
    const refusal = (json: unknown): EngineError => {
      try {
        ClipTokenizer.fromJson(json, tokenizerConfig);
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        return e as EngineError;
      }
      throw new Error('the tokenizer was accepted');
    };

    it('refuses a pathological split regex such as (a+)+$ when the tokenizer is loaded', () => {
      const e = refusal(edited((t) => { t.pre_tokenizer.pretokenizers[0].pattern = { Regex: '(a+)+$' }; }));
      expect(e.code).toBe(ErrorCode.BadManifest);
      expect(e.message).toMatch(/tokenizer\.json: pre_tokenizer\.pretokenizers\[0\]\.pattern uses the regex "\(a\+\)\+\$"/);
      expect(e.details).toMatchObject({ file: 'tokenizer.json', actual: '"(a+)+$"' });
    });

    it('refuses unknown normalizer and decoder regexes, and a Regex that is not a string', () => {
      expect(refusal(edited((t) => { t.normalizer.normalizers[1].pattern = { Regex: '(\\s*)*x' }; })).message)
        .toMatch(/normalizer\.normalizers\[1\]\.pattern uses the regex/);
      expect(refusal(edited((t) => { t.decoder = { type: 'Replace', pattern: { Regex: '(.*)*' }, content: '' }; })).message)
        .toMatch(/decoder\.pattern uses the regex/);
      // A CLIP pattern is safe where CLIP puts it, not as another component's pattern.
      expect(refusal(edited((t) => { t.normalizer.normalizers[1].pattern = { Regex: t.pre_tokenizer.pretokenizers[0].pattern.Regex }; })).code)
        .toBe(ErrorCode.BadManifest);
      expect(refusal(edited((t) => { t.pre_tokenizer.pretokenizers[0].pattern = { Regex: 7 }; })).code).toBe(ErrorCode.BadManifest);
    });

    it('accepts the real CLIP patterns and literal String patterns', () => {
      const literal = ClipTokenizer.fromJson(edited((t) => { t.normalizer.normalizers[1].pattern = { String: '  ' }; }), tokenizerConfig);
      expect(literal.encode('a cat').inputIds[0]).toBe(BigInt(START));
      expect(tok.encode('a cat').inputIds[0]).toBe(BigInt(START));
    });
  });
});
