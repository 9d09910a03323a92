import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { LIMITS, MODES, SCHEDULER_KINDS, type GenerateRequest, type RgbaImage } from '../protocol.ts';
import { checkSizeOn, normaliseRequest, type NormalisedRequest } from './validate.ts';

const rgba = (width: number, height: number): RgbaImage => ({ width, height, data: new Uint8ClampedArray(width * height * 4) });
const image = rgba(8, 8);
const common = {
  negativePrompt: '', width: 64, height: 64, steps: 3, guidance: 4, priorSteps: 2, priorGuidance: 4,
  scheduler: 'ddpm', seed: 42, numImages: 1,
} as const;

/** One valid request per mode (small images keep 10^4 runs fast). */
const VALID: Readonly<Record<GenerateRequest['mode'], GenerateRequest>> = {
  text2img: { ...common, mode: 'text2img', prompt: 'a red cat' },
  img2img: { ...common, mode: 'img2img', prompt: 'a red cat', image, strength: 0.6 },
  inpaint: { ...common, mode: 'inpaint', prompt: 'a red cat', image: rgba(64, 64), mask: { width: 64, height: 64, data: new Uint8Array(64 * 64) } },
  fusion: { ...common, mode: 'fusion', conditions: [{ kind: 'text', prompt: 'horse', weight: 0.5 }, { kind: 'image', image, weight: 0.5, id: 'abc' }] },
  variations: { ...common, mode: 'variations', image },
};

/** The validator's outcome: the request it accepted, or the EngineError it threw (anything else is rethrown). */
function outcome(req: unknown): { ok: true; req: NormalisedRequest } | { ok: false; error: EngineError } {
  try {
    return { ok: true, req: normaliseRequest(req as GenerateRequest) };
  } catch (e) {
    if (e instanceof EngineError) return { ok: false, error: e };
    throw e;
  }
}

function rejection(req: unknown): EngineError {
  const r = outcome(req);
  if (r.ok) throw new Error('expected a rejection');
  return r.error;
}

const isIn = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isIntIn = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && isIn(v, min, max);
const isText = (v: unknown): boolean => typeof v === 'string' && v.length <= LIMITS.maxPromptChars;
const isImage = (i: RgbaImage): boolean => i.data instanceof Uint8Array || i.data instanceof Uint8ClampedArray
  ? isIntIn(i.width, 1, 4 * LIMITS.maxSide) && isIntIn(i.height, 1, 4 * LIMITS.maxSide) && i.data.length === i.width * i.height * 4
  : false;

/** Every documented bound (protocol.ts LIMITS, README) of an accepted request; the first one broken, or null. */
function brokenBound(r: NormalisedRequest): string | null {
  const side = (v: number): boolean => isIntIn(v, LIMITS.minSide, LIMITS.maxSide) && v % 64 === 0;
  const checks: [string, boolean][] = [
    ['mode', MODES.includes(r.mode)],
    ['width', side(r.width)],
    ['height', side(r.height)],
    ['steps', isIntIn(r.steps, 1, LIMITS.maxSteps)],
    ['guidance', isIn(r.guidance, 0, LIMITS.maxGuidance)],
    ['priorSteps', isIntIn(r.priorSteps, 2, LIMITS.maxPriorSteps)],
    ['priorGuidance', isIn(r.priorGuidance, 0, LIMITS.maxGuidance)],
    ['scheduler', SCHEDULER_KINDS.includes(r.scheduler)],
    ['seed', isIntIn(r.seed, 0, 2 ** 32 - 1)],
    ['numImages', isIntIn(r.numImages, 1, LIMITS.maxImages)],
    ['negativePrompt', isText(r.negativePrompt)],
    ['warnings', Array.isArray(r.warnings) && r.warnings.every((w) => typeof w === 'string')],
  ];
  switch (r.mode) {
    case 'text2img':
      checks.push(['prompt', isText(r.prompt)]);
      break;
    case 'img2img':
      checks.push(['prompt', isText(r.prompt)], ['image', isImage(r.image)], ['strength', isIn(r.strength, 0, 1) && Math.floor(r.steps * r.strength) >= 1]);
      break;
    case 'inpaint':
      checks.push(
        ['prompt', isText(r.prompt)],
        ['image', isImage(r.image) && r.image.width === r.width && r.image.height === r.height],
        ['mask', r.mask.data instanceof Uint8Array && r.mask.width === r.width && r.mask.height === r.height && r.mask.data.length === r.width * r.height],
      );
      break;
    case 'fusion':
      checks.push(
        ['conditions', r.conditions.length >= 1 && r.conditions.length <= LIMITS.maxFusionConditions && r.conditions.some((c) => c.weight !== 0)],
        ...r.conditions.map((c, i): [string, boolean] => [`conditions[${i}]`, isIn(c.weight, -100, 100) && (c.kind === 'text'
          ? isText(c.prompt)
          : c.kind === 'image' && isImage(c.image) && (c.id === undefined || (typeof c.id === 'string' && c.id.length <= 256)))]),
      );
      break;
    case 'variations':
      checks.push(['image', isImage(r.image)]);
      break;
  }
  return checks.find(([, ok]) => !ok)?.[0] ?? null;
}

/** The property: never a throw other than EngineError, every rejection BAD_REQUEST with a message, every acceptance in bounds. */
function judge(req: unknown): boolean {
  const r = outcome(req);
  if (r.ok) {
    const broken = brokenBound(r.req);
    if (broken !== null) throw new Error(`accepted a request with ${broken} out of bounds`);
  } else {
    if (r.error.code !== ErrorCode.BadRequest) throw new Error(`rejected with ${r.error.code}: ${r.error.message}`);
    if (r.error.message.length < 10) throw new Error(`rejected without a message: "${r.error.message}"`);
  }
  return true;
}

/** Values a field may be replaced with: any JSON, the non-JSON values structured clone carries, and near-miss numbers. */
const hostile = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    null, undefined, NaN, Infinity, -Infinity, -0, 0, -1, 0.5, 1e9, 2 ** 32, 1000, 1001, 2048, 2049, 16, 17, '', '30',
    { toString: 1 }, { valueOf: 'x' }, [], [null], new Uint8Array(3), new Uint8ClampedArray(8 * 8 * 4), new Float32Array(4), BigInt(3), new Date(0),
  ),
  fc.double(),
  fc.integer({ min: -5000, max: 5000 }),
  fc.string({ maxLength: 8 }),
  fc.array(fc.oneof(fc.constant(null), fc.jsonValue(), fc.constant({ kind: 'text', prompt: 'horse', weight: 1 })), { maxLength: 20 }),
);

/** Paths a mutation may touch: every field of every request type, nested ones included. */
const PATHS: readonly (readonly (string | number)[])[] = [
  ...['mode', 'prompt', 'negativePrompt', 'width', 'height', 'steps', 'guidance', 'priorSteps', 'priorGuidance', 'scheduler', 'seed',
    'numImages', 'strength', 'image', 'mask', 'conditions'].map((k) => [k]),
  ['image', 'width'], ['image', 'height'], ['image', 'data'],
  ['mask', 'width'], ['mask', 'height'], ['mask', 'data'],
  ...[0, 1, 2].flatMap((i) => [[`conditions`, i], ['conditions', i, 'kind'], ['conditions', i, 'weight'], ['conditions', i, 'prompt'],
    ['conditions', i, 'image'], ['conditions', i, 'id'], ['conditions', i, 'image', 'width'], ['conditions', i, 'image', 'data']]),
];

/** A deep copy of `req` with `value` at `path` (intermediate containers created or replaced as needed); `remove` deletes it. */
function mutate(req: unknown, path: readonly (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const base = typeof req === 'object' && req !== null && !ArrayBuffer.isView(req) ? req : {};
  const copy = (Array.isArray(base) ? [...(base as unknown[])] : { ...base }) as Record<string | number, unknown>;
  if (remove && rest.length === 0) delete copy[head];
  else copy[head] = mutate(copy[head], rest, value, remove);
  return copy;
}

const mutation = fc.record({ path: fc.constantFrom(...PATHS), value: hostile, remove: fc.boolean() });
const PROPERTY = { seed: 20261204, numRuns: 10_000 } as const;

describe('normaliseRequest: defects of issue 13', () => {
  it('a null, missing or non-object fusion condition is BAD_REQUEST naming it', () => {
    for (const bad of [null, undefined, 3, 'text', [], { kind: 'text', prompt: 'x' }, { weight: 1 }]) {
      const e = rejection({ ...VALID.fusion, conditions: [{ kind: 'text', prompt: 'a', weight: 1 }, bad] });
      expect(e.code).toBe(ErrorCode.BadRequest);
      expect(e.message).toMatch(/conditions\[1\]/);
    }
  });

  it('at most LIMITS.maxFusionConditions (16) conditions; more is BAD_REQUEST naming the limit', () => {
    const text = { kind: 'text', prompt: 'a', weight: 1 } as const;
    expect(LIMITS.maxFusionConditions).toBe(16);
    const ok = outcome({ ...VALID.fusion, conditions: Array.from({ length: 16 }, () => text) });
    expect(ok.ok && ok.req.mode === 'fusion' && ok.req.conditions.length).toBe(16);
    const e = rejection({ ...VALID.fusion, conditions: Array.from({ length: 17 }, () => text) });
    expect(e.code).toBe(ErrorCode.BadRequest);
    expect(e.message).toMatch(/at most 16 conditions; got 17/);
  });

  it('null is a wrong type, not "use the default"; objects whose toString is not callable are named, not thrown on', () => {
    expect(rejection({ ...VALID.text2img, steps: null }).message).toMatch(/steps .*got null/);
    expect(rejection({ ...VALID.text2img, guidance: { toString: 1 } }).message).toMatch(/guidance .*got an object/);
    expect(rejection({ ...VALID.text2img, mode: { toString: 1 } }).message).toMatch(/mode must be one of/);
    expect(rejection({ ...VALID.inpaint, mask: { width: { toString: 1 }, height: 64, data: new Uint8Array(64 * 64) } }).message).toMatch(/mask/);
    const { steps: _omitted, ...noSteps } = VALID.text2img;
    const r = outcome(noSteps);
    expect(r.ok && r.req.steps).toBe(30);
  });

  it('an image condition keeps only its checked fields, and its id must be short text', () => {
    const r = outcome({ ...VALID.fusion, conditions: [{ kind: 'image', image, weight: 1, id: 'x', extra: new Uint8Array(1e6) }] });
    expect(r.ok && r.req.mode === 'fusion' && r.req.conditions[0]).toEqual({ kind: 'image', image, weight: 1, id: 'x' });
    expect(rejection({ ...VALID.fusion, conditions: [{ kind: 'image', image, weight: 1, id: 7 }] }).message).toMatch(/conditions\[0\]\.id/);
  });

  it('the CPU (wasm) path refuses more than 960×960 pixels before running; WebGPU takes up to 2048', () => {
    expect(() => checkSizeOn('wasm', 960, 960)).not.toThrow();
    expect(() => checkSizeOn('wasm', 1024, 896)).not.toThrow();
    expect(() => checkSizeOn('webgpu', 2048, 2048)).not.toThrow();
    for (const [w, h] of [[1024, 1024], [2048, 2048], [1024, 960]] as const) {
      let error: unknown;
      try { checkSizeOn('wasm', w, h); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe(ErrorCode.BadRequest);
      expect((error as EngineError).message).toMatch(/CPU \(wasm\) path, which supports up to 921,600 pixels \(960×960.*Use WebGPU or a smaller size/);
    }
  });
});

describe('normaliseRequest: properties (fast-check, seeded)', () => {
  it('every valid request per mode is accepted and in bounds', () => {
    for (const req of Object.values(VALID)) {
      const r = outcome(req);
      expect(r.ok, JSON.stringify(r.ok ? null : r.error.message)).toBe(true);
      if (r.ok) expect(brokenBound(r.req)).toBeNull();
    }
  });

  it('arbitrary values as the request: never throws, only BAD_REQUEST with a message, accepted ones in bounds', () => {
    fc.assert(fc.property(fc.oneof(fc.anything(), fc.jsonValue(), hostile), judge), PROPERTY);
  });

  it('arbitrary objects with a valid mode: same', () => {
    const req = fc.record({ mode: fc.constantFrom(...MODES) }).chain((head) => fc.dictionary(fc.constantFrom(...PATHS.map((p) => String(p[0]))), hostile)
      .map((fields) => ({ ...fields, ...head })));
    fc.assert(fc.property(req, judge), PROPERTY);
  });

  it('valid requests of every mode with one to three fields replaced or removed: same', () => {
    const req = fc.tuple(fc.constantFrom(...MODES), fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([mode, ms]) => ms.reduce<unknown>((r, m) => mutate(r, m.path, m.value, m.remove), VALID[mode]));
    fc.assert(fc.property(req, judge), PROPERTY);
  });
});
