import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EngineError, toErrorData } from '../errors.ts';
import { isUnder, resolveBundlePath } from '../runtime/bundle-path.ts';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../runtime/bundle.ts';
import { createRuntime } from '../runtime/ort.ts';
import { bundleDirBytes } from '../testing/bundle-dir.ts';
import { withNavigatorGpu } from '../testing/fake-gpu.ts';
import { chooseVariant, detectGpu, parseVariants } from './variants.ts';

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

describe('parseVariants: folder paths that would leave the source (issue 13)', () => {
  test.each([
    ['\\\\evil.example\\m\\'],
    ['\t/\t/evil.example/m/'],
    ['%2e%2e/%2E%2e/m/'],
    ['  //evil.example/m/'],
    [' fp16/'],
    ['data:text/plain,x/'],
    ['./fp16/'],
    ['fp16//'],
  ])('%j: BAD_MANIFEST naming variants[0].path', (path) => {
    let err: unknown;
    try { parseVariants({ format: 'kandinsky-onnx-variants', version: 1, variants: [{ id: 'a', path }] }); } catch (e) { err = e; }
    expect(toErrorData(err)).toMatchObject({ code: 'BAD_MANIFEST', expected: 'variants[0].path' });
    expect(toErrorData(err).message).toMatch(/variants\[0\]\.path must be a relative folder/);
  });
});

/** Values a hostile or broken variants.json may hold: JSON, with paths and ids built from characters URLs care about. */
const tricky = fc.string({ unit: fc.constantFrom('.', '/', '\\', '%', '2', 'e', 'f', '5', 'c', ':', ' ', '\t', '\n', 'a', '#', '?', '\uD800'), maxLength: 10 });
/** Mostly well-formed fields (so whole documents get accepted and their paths judged), sometimes anything. */
const mostly = <T,>(good: fc.Arbitrary<T>) => fc.oneof({ arbitrary: good, weight: 9 }, { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 });
const entry = fc.record({
  id: mostly(fc.stringMatching(/^[a-z0-9._-]{1,6}$/)),
  path: fc.oneof(
    { arbitrary: tricky, weight: 3 },
    { arbitrary: fc.constantFrom('fp16/', 'fp32', 'a/b/', 'a b/', '...', '../x/', 'https://evil.example/'), weight: 3 },
    { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 },
  ),
  label: mostly(fc.string({ maxLength: 8 })),
  requires: mostly(fc.array(fc.constantFrom('webgpu', 'shader-f16', 'x'), { maxLength: 3 })),
  bytes: mostly(fc.oneof({ arbitrary: fc.nat(), weight: 4 }, { arbitrary: fc.double(), weight: 1 })),
}, { requiredKeys: ['id', 'path'] });
/** Well-formed documents whose only doubt is each folder path. */
const pathDocuments = fc.record({
  format: fc.constant('kandinsky-onnx-variants'),
  version: fc.constant(1),
  variants: fc.uniqueArray(fc.record({
    id: fc.stringMatching(/^[a-z0-9]{1,4}$/),
    path: fc.oneof(tricky, fc.constantFrom('fp16/', 'fp32', 'a/b/', 'a b/', '...', '~x/', 'é/')),
  }), { minLength: 1, maxLength: 3, selector: (v) => v.id }),
});
const documents = fc.oneof(
  pathDocuments,
  fc.record({
    format: fc.oneof(fc.constant('kandinsky-onnx-variants'), fc.jsonValue({ maxDepth: 1 })),
    version: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 1 })),
    name: fc.jsonValue({ maxDepth: 1 }),
    variants: fc.oneof({ arbitrary: fc.array(entry, { minLength: 1, maxLength: 3 }), weight: 4 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 }),
  }, { requiredKeys: ['variants'] }),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('parseVariants (property-based, seeded)', () => {
  test('never crashes or throws untyped; every accepted folder resolves inside the source', () => {
    const source = new URL('https://models.example/k/');
    let accepted = 0;
    fc.assert(
      fc.property(documents, fc.boolean(), (doc, makeValid) => {
        // Half the time force the envelope valid, so the entries themselves are what is judged.
        const input = makeValid && typeof doc === 'object' && doc !== null && !Array.isArray(doc)
          ? { ...doc, format: 'kandinsky-onnx-variants', version: 1 } : doc;
        let parsed: ReturnType<typeof parseVariants>;
        try {
          parsed = parseVariants(input);
        } catch (e) {
          expect(e).toBeInstanceOf(EngineError);
          expect((e as EngineError).code).toBe('BAD_MANIFEST');
          return;
        }
        accepted++;
        for (const [i, v] of parsed.variants.entries()) {
          const url = resolveBundlePath(source, v.path, `variants[${i}].path`, 'folder');
          expect(isUnder(url, source)).toBe(true);
          const plain = new URL(v.path, source);
          expect(plain.origin).toBe(source.origin);
          expect(plain.pathname.startsWith(source.pathname)).toBe(true);
        }
        expect(() => chooseVariant(parsed, noGpu)).not.toThrow(TypeError);
      }),
      { seed: 13, numRuns: 10_000 },
    );
    expect(accepted).toBeGreaterThan(1000);
  });
});

describe('detectGpu judges the adapter the engine runs on', () => {
  /**
   * A dual-GPU machine: the default adapter (an integrated GPU, say) offers shader-f16, the high-performance one
   * (a discrete GPU under Vulkan, like SPEC §5's) does not. Returns each requestAdapter call's options.
   */
  async function withTwoAdapters(body: (asked: unknown[]) => Promise<void>): Promise<void> {
    const asked: unknown[] = [];
    const adapter = (features: string[], description: string) => ({
      features: new Set(features), limits: {}, info: { vendor: 'test', architecture: '', description },
      requestDevice: async () => { throw new Error('no real GPU in this test'); },
    });
    const integrated = adapter(['shader-f16'], 'integrated');
    const discrete = adapter([], 'discrete');
    const gpu = {
      requestAdapter: async (options?: GPURequestAdapterOptions) => {
        asked.push(options);
        return options?.powerPreference === 'high-performance' ? discrete : integrated;
      },
    };
    await withNavigatorGpu(gpu, () => body(asked));
  }

  test('the variant is chosen on the same adapter whose features the runtime sees', async () => {
    await withTwoAdapters(async (asked) => {
      const facts = await detectGpu();
      const dir = fileURLToPath(new URL('../../public/models/tiny-kandinsky-2-2/', import.meta.url));
      const runtime = await createRuntime(await loadBundle({ kind: 'files', files: bundleDirBytes(dir) }), { provider: 'auto' });
      try {
        expect(asked).toHaveLength(2);
        expect(asked[0]).toEqual(asked[1]);
        expect(facts).toEqual({ webgpu: true, shaderF16: runtime.capabilities.shaderF16, adapter: 'test discrete' });
        // So no fp16 variant for a GPU that cannot compute in fp16 (it used to be chosen on the integrated one).
        expect(chooseVariant(file, facts).entry.id).toBe('fp16w');
      } finally {
        await runtime.dispose();
      }
    });
  });
});
