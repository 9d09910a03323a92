import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { toErrorData } from '../errors.ts';
import { TINY_21_BUNDLE_DIR, TINY_BUNDLE_DIR } from '../testing/tiny-bundle.ts';
import { readManifest } from './manifest-files.ts';

const text = readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8');

describe('readManifest', () => {
  test('lists stage graphs with size and hash, then prior stats and tokenizer files', () => {
    const facts = readManifest(text, 'tiny');
    expect(facts.name).toBe('tiny-random-kandinsky-2-2');
    expect(facts.stages).toEqual(['text_encoder', 'image_encoder', 'prior', 'unet', 'unet_inpaint', 'movq_encoder', 'movq_decoder']);
    expect(facts.files.map((f) => f.path)).toEqual([
      'text_encoder.onnx', 'image_encoder.onnx', 'prior.onnx', 'prior_stats.json', 'unet.onnx', 'unet_inpaint.onnx',
      'movq_encoder.onnx', 'movq_decoder.onnx', 'tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json',
    ]);
    const unet = facts.files.find((f) => f.path === 'unet.onnx')!;
    expect(unet.bytes).toBe(3776083);
    expect(unet.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(facts.files.find((f) => f.path === 'tokenizer/tokenizer_config.json')!.optional).toBe(true);
  });

  test('a Kandinsky 2.1 bundle also lists its multilingual encoder and tokenizer (manifest version 2)', () => {
    const facts = readManifest(readFileSync(join(TINY_21_BUNDLE_DIR, 'manifest.json'), 'utf8'), 'tiny-2-1');
    expect(facts.stages).toContain('text_encoder_multilingual');
    const paths = facts.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining([
      'text_encoder_multilingual.onnx', 'tokenizer/tokenizer.json', 'tokenizer_multilingual/tokenizer.json', 'tokenizer_multilingual/tokenizer_config.json',
    ]));
    expect(facts.files.find((f) => f.path === 'tokenizer_multilingual/tokenizer.json')!.optional).toBe(false);
  });

  test('external-data files are listed with their own size and hash', () => {
    const m = JSON.parse(text) as { stages: { unet: Record<string, unknown> } };
    m.stages.unet.external_data = [{ path: 'unet.onnx.data', bytes: 2_000_000_000, sha256: 'c'.repeat(64) }];
    const files = readManifest(JSON.stringify(m), 'tiny').files;
    expect(files.find((f) => f.path === 'unet.onnx.data')).toEqual({ path: 'unet.onnx.data', bytes: 2e9, sha256: 'c'.repeat(64), optional: false });
  });

  test('bad manifests are BAD_MANIFEST naming the source', () => {
    for (const bad of ['<html>', JSON.stringify({ format: 'other' }), JSON.stringify({ ...JSON.parse(text), version: 7 })]) {
      let e: unknown;
      try { readManifest(bad, 'https://host/m/manifest.json'); } catch (x) { e = x; }
      expect(toErrorData(e).code).toBe('BAD_MANIFEST');
      expect(toErrorData(e).message).toContain('https://host/m/manifest.json');
    }
  });
});
