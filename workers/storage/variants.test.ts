import { describe, expect, test } from 'vitest';
import { toErrorData } from '../errors.ts';
import { chooseVariant, parseVariants } from './variants.ts';

const file = parseVariants({
  format: 'kandinsky-onnx-variants',
  version: 1,
  name: 'kandinsky-2-2',
  variants: [
    { id: 'fp16', path: 'fp16', label: 'fp16 weights and compute', requires: ['webgpu', 'shader-f16'], bytes: 5.6e9 },
    { id: 'fp16w', path: 'fp16-weights/', label: 'fp16 weights, fp32 compute', requires: ['webgpu'] },
    { id: 'fp32', path: 'fp32/', requires: [] },
  ],
});

const f16Gpu = { webgpu: true, shaderF16: true, adapter: 'test' };
const plainGpu = { webgpu: true, shaderF16: false, adapter: 'test' };
const noGpu = { webgpu: false, shaderF16: false, adapter: '' };

describe('parseVariants', () => {
  test('normalises folders and labels', () => {
    expect(file.variants.map((v) => [v.id, v.path, v.label, v.bytes])).toEqual([
      ['fp16', 'fp16/', 'fp16 weights and compute', 5.6e9],
      ['fp16w', 'fp16-weights/', 'fp16 weights, fp32 compute', null],
      ['fp32', 'fp32/', 'fp32', null],
    ]);
  });

  test.each([
    [[], /JSON object/],
    [{ format: 'other', version: 1, variants: [] }, /format/],
    [{ format: 'kandinsky-onnx-variants', version: 2, variants: [{ id: 'a', path: 'a/' }] }, /version 1.*version 2/],
    [{ format: 'kandinsky-onnx-variants', version: 1, variants: [] }, /non-empty/],
    [{ format: 'kandinsky-onnx-variants', version: 1, variants: [{ id: 'a', path: '../x/' }] }, /relative folder/],
    [{ format: 'kandinsky-onnx-variants', version: 1, variants: [{ id: 'a', path: 'https://evil/' }] }, /relative folder/],
    [{ format: 'kandinsky-onnx-variants', version: 1, variants: [{ id: 'a', path: 'a/' }, { id: 'a', path: 'b/' }] }, /twice/],
  ])('rejects bad documents with BAD_MANIFEST (%#)', (doc, message) => {
    let err: unknown;
    try { parseVariants(doc); } catch (e) { err = e; }
    const data = toErrorData(err);
    expect(data.code).toBe('BAD_MANIFEST');
    expect(data.message).toMatch(message);
  });
});

describe('chooseVariant', () => {
  test('a GPU with shader-f16 gets the first (fp16) variant', () => {
    const { entry, choice } = chooseVariant(file, f16Gpu);
    expect(entry.id).toBe('fp16');
    expect(choice.reason).toMatch(/first choice.*webgpu and shader-f16/);
    expect(choice.options.every((o) => o.usable)).toBe(true);
  });

  test('a GPU without shader-f16 gets fp16 weights with fp32 compute, and the reason names shader-f16', () => {
    const { entry, choice } = chooseVariant(file, plainGpu);
    expect(entry.id).toBe('fp16w');
    expect(choice.reason).toMatch(/fp16 needs shader-f16/);
    expect(choice.options.map((o) => o.usable)).toEqual([false, true, true]);
  });

  test('no WebGPU: the fp32 variant (wasm)', () => {
    expect(chooseVariant(file, noGpu).entry.id).toBe('fp32');
  });

  test('unknown requirements make a variant unusable, not the app crash', () => {
    const f = parseVariants({ format: 'kandinsky-onnx-variants', version: 1, variants: [
      { id: 'future', path: 'f/', requires: ['subgroups-f8'] }, { id: 'safe', path: 's/' },
    ] });
    const { entry, choice } = chooseVariant(f, f16Gpu);
    expect(entry.id).toBe('safe');
    expect(choice.options[0]!.why).toMatch(/does not know/);
  });

  test('nothing usable: UNSUPPORTED listing each variant and why', () => {
    const f = parseVariants({ format: 'kandinsky-onnx-variants', version: 1, variants: [{ id: 'fp16', path: 'a/', requires: ['shader-f16'] }] });
    let err: unknown;
    try { chooseVariant(f, plainGpu); } catch (e) { err = e; }
    expect(toErrorData(err)).toMatchObject({ code: 'UNSUPPORTED' });
    expect(toErrorData(err).message).toMatch(/fp16 needs shader-f16/);
  });

  test('a forced variant is honoured when usable, refused with the reason when not, BAD_REQUEST when unknown', () => {
    expect(chooseVariant(file, f16Gpu, 'fp32').choice.reason).toMatch(/chosen by you/);
    expect(() => chooseVariant(file, plainGpu, 'fp16')).toThrow(/cannot run here/);
    let err: unknown;
    try { chooseVariant(file, plainGpu, 'int4'); } catch (e) { err = e; }
    expect(toErrorData(err).code).toBe('BAD_REQUEST');
  });
});
