/**
 * The session-record reader against arbitrary stored values (property-based, fast-check; seeded
 * and with a fixed number of runs so CI stays fast and a failure replays).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TOOL_IDS } from '../editor/editor.ts';
import { TestEditor } from '../editor/test-editor.ts';
import { restoreSession, type SessionMeta } from './persistence.ts';
import { readGalleryRecords, readSessionRecord, TILE_BYTES, type RawSession, type SavedSession } from './session-record.ts';
import { createAppStore, DEFAULT_PARAMS } from './store.ts';

const SEED = 20261204;
const RUNS = Number(process.env.RUNS ?? 10_000);

/** One full tile, shared by every run (restoring only swaps references, it never writes pixels). */
const FULL_TILE = new Uint8ClampedArray(TILE_BYTES);
// A counterexample then prints as a name, not as 262,144 numbers.
Object.defineProperty(FULL_TILE, fc.toStringMethod, { value: () => 'FULL_TILE' });

const junk = fc.anything({ maxDepth: 2, maxKeys: 4, withTypedArray: true, withNullPrototype: true, withBigInt: true, withMap: true, withSet: true, withDate: true });
const or = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: junk });

const tileKey = fc.tuple(fc.constantFrom('image', 'mask'), fc.integer({ min: -2, max: 2 }), fc.integer({ min: -2, max: 2 })).map(([l, x, y]) => `${l}/${x},${y}`);
const tileData = fc.oneof(
  { weight: 4, arbitrary: fc.constant(FULL_TILE) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 64 }).map((n) => new Uint8ClampedArray(n)) }, // truncated
  { weight: 1, arbitrary: fc.constant(new Uint8Array(TILE_BYTES)) }, // wrong type
);
const stepId = fc.integer({ min: 1, max: 8 });
const tileRec = fc.record({ key: or(tileKey), data: or(tileData) }, { requiredKeys: [] });
const stepRec = fc.record({
  id: or(stepId), name: or(fc.string({ maxLength: 8 })),
  tiles: or(fc.array(fc.record({ key: or(tileKey), data: or(fc.oneof(fc.constant(null), tileData)) }), { maxLength: 3 })),
}, { requiredKeys: [] });

const meta = fc.record({
  version: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: junk }),
  frame: or(fc.record({ x: fc.integer({ min: -500, max: 500 }), y: fc.integer({ min: -500, max: 500 }), width: fc.integer({ min: 1, max: 2048 }), height: fc.integer({ min: 1, max: 2048 }) })),
  aspect: or(fc.constantFrom('1:1', '16:9', '9:16', '2:3', '3:2')),
  longSide: or(fc.constantFrom(64, 128, 512, 1024)),
  camera: or(fc.record({ offsetX: fc.double({ min: -1e4, max: 1e4, noNaN: true }), offsetY: fc.double({ min: -1e4, max: 1e4, noNaN: true }), zoom: fc.double({ min: 0.1, max: 20, noNaN: true }) })),
  brush: or(fc.record({ size: fc.integer({ min: 1, max: 512 }), hardness: fc.double({ min: 0, max: 1, noNaN: true }) })),
  tool: or(fc.constantFrom(...TOOL_IDS)),
  params: or(fc.record({ prompt: or(fc.string({ maxLength: 10 })), steps: or(fc.integer({ min: 1, max: 100 })), scheduler: or(fc.constantFrom('ddpm', 'ddim', 'dpmpp_2m')) }, { requiredKeys: [] }).map((p) => ({ ...DEFAULT_PARAMS, ...p }))),
  lastSeed: or(fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }))),
  lastParams: or(fc.constant(null)),
  language: or(fc.constantFrom('en', 'ru')),
  settings: or(fc.record({ provider: or(fc.constantFrom('auto', 'wasm', 'webgpu')), smallFrames: or(fc.boolean()), livePreview: or(fc.constantFrom(true, false, null)) })),
  history: or(fc.record({ nextId: or(fc.integer({ min: 1, max: 12 })), undo: or(fc.array(or(stepId), { maxLength: 5 })), redo: or(fc.array(or(stepId), { maxLength: 3 })) }, { requiredKeys: [] })),
}, { requiredKeys: [] });

const rawSession: fc.Arbitrary<RawSession> = fc.record({
  meta: fc.oneof({ weight: 6, arbitrary: meta }, { weight: 1, arbitrary: junk }, { weight: 1, arbitrary: fc.constant(null) }),
  tiles: fc.array(fc.oneof({ weight: 5, arbitrary: tileRec }, { weight: 1, arbitrary: junk }), { maxLength: 4 }),
  steps: fc.array(fc.oneof({ weight: 5, arbitrary: stepRec }, { weight: 1, arbitrary: junk }), { maxLength: 5 }),
});

const TILE_KEY = /^(image|mask)\/-?\d+,-?\d+$/;

/** Plain checks (thousands of runs: vitest's `expect` is too slow here); the message names the broken promise. */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invalid session: ${what}`);
}

/** The reader's promises, checked independently of its code. */
function checkValid(s: SavedSession): void {
  const keys = s.tiles.map((t) => t.key);
  check(new Set(keys).size === keys.length, 'repeated tile key');
  for (const t of s.tiles) check(TILE_KEY.test(t.key) && t.data instanceof Uint8ClampedArray && t.data.length === TILE_BYTES, `tile ${t.key}`);
  for (const st of s.steps) {
    check(Number.isSafeInteger(st.id) && st.id >= 1 && typeof st.name === 'string', `step ${String(st.id)}`);
    for (const t of st.tiles) check(TILE_KEY.test(t.key) && (t.data === null || (t.data instanceof Uint8ClampedArray && t.data.length === TILE_BYTES)), `step tile ${t.key}`);
  }
  if (!s.meta) { check(s.steps.length === 0, 'steps without history'); return; }
  const m: SessionMeta = s.meta;
  const ids = [...m.history.undo, ...m.history.redo];
  check(new Set(ids).size === ids.length, 'a step on both stacks or twice');
  const held = new Set(s.steps.map((st) => st.id));
  check(ids.every((id) => held.has(id) && id < m.history.nextId), 'history names a step that is not held, or nextId too small');
  check((TOOL_IDS as readonly string[]).includes(m.tool), 'tool');
  check(Number.isInteger(m.frame.width) && m.frame.width > 0 && Number.isInteger(m.frame.height) && m.frame.height > 0, 'frame');
  check(m.longSide % 64 === 0 && m.longSide >= 64, 'longSide');
  check(Number.isFinite(m.camera.zoom) && m.camera.zoom > 0 && Number.isFinite(m.camera.offsetX) && Number.isFinite(m.camera.offsetY), 'camera');
  check(['en', 'ru'].includes(m.language), 'language');
  check(Object.keys(m.params).sort().join() === Object.keys(DEFAULT_PARAMS).sort().join(), 'params');
}

describe('session record reader (property-based)', () => {
  it(`never throws and never returns an invalid session, over ${RUNS} arbitrary records; the result restores, undoes and redoes`, () => {
    fc.assert(fc.property(rawSession, (raw) => {
      const { session, problems } = readSessionRecord(raw);
      const empty = (raw.meta === null || raw.meta === undefined) && raw.tiles.length === 0 && raw.steps.length === 0;
      check((session === null) === empty, 'null exactly when nothing is stored');
      if (!session) return;
      checkValid(session);
      check(problems.every((p) => typeof p === 'string' && p.length > 0), 'a problem without text');
      const ed = new TestEditor();
      restoreSession(session, ed, createAppStore());
      while (ed.doc.history.undo() !== null) { /* every undo step applies */ }
      while (ed.doc.history.redo() !== null) { /* and every redo step */ }
    }), { seed: SEED, numRuns: RUNS });
  });

  it('a sound record comes back unchanged, with no problems reported', () => {
    const sound = fc.record({
      tiles: fc.uniqueArray(tileKey, { maxLength: 3 }).map((ks) => ks.map((key) => ({ key, data: FULL_TILE }))),
      undo: fc.uniqueArray(stepId, { maxLength: 4 }),
      frame: fc.record({ x: fc.integer({ min: -500, max: 500 }), y: fc.integer({ min: -500, max: 500 }), width: fc.integer({ min: 1, max: 2048 }), height: fc.integer({ min: 1, max: 2048 }) }),
      tool: fc.constantFrom(...TOOL_IDS),
      prompt: fc.string({ maxLength: 20 }),
    });
    fc.assert(fc.property(sound, ({ tiles, undo, frame, tool, prompt }) => {
      const steps = undo.map((id) => ({ id, name: `s${id}`, tiles: [{ key: 'image/0,0', data: null }] }));
      const m: SessionMeta = {
        version: 1, frame, aspect: '1:1', longSide: 512, camera: { offsetX: 0, offsetY: 0, zoom: 1 }, brush: { size: 10, hardness: 0.5 }, tool,
        params: { ...DEFAULT_PARAMS, prompt }, lastSeed: null, lastParams: null, language: 'ru', settings: { provider: 'wasm', smallFrames: true, livePreview: false },
        history: { nextId: 9, undo, redo: [] },
      };
      const r = readSessionRecord({ meta: m, tiles, steps });
      expect(r.problems).toEqual([]);
      expect(r.session?.meta).toEqual(m);
      expect(r.session?.tiles.map((t) => t.key)).toEqual(tiles.map((t) => t.key));
      expect(r.session?.tiles.every((t) => t.data === FULL_TILE)).toBe(true);
      expect(r.session?.steps.map((s) => s.id)).toEqual(undo);
    }), { seed: SEED, numRuns: 2_000 });
  });

  it('a record without history keeps its pixels and settings, reports the damage, and drops no tile', () => {
    const r = readSessionRecord({ meta: { version: 1, tool: 'mask', language: 'ru' }, tiles: [{ key: 'image/0,0', data: FULL_TILE }], steps: [{ id: 1, name: 'x', tiles: [] }] });
    expect(r.session?.tiles.length).toBe(1);
    expect(r.session?.meta?.tool).toBe('mask');
    expect(r.session?.meta?.language).toBe('ru');
    expect(r.session?.meta?.history.undo).toEqual([]);
    expect(r.problems.some((p) => p.startsWith('session.history'))).toBe(true);
  });

  it('a missing step in the middle of the undo list drops it and everything older (they cannot apply without it)', () => {
    const step = (id: number): { id: number; name: string; tiles: never[] } => ({ id, name: `s${id}`, tiles: [] });
    const meta = { version: 1, history: { nextId: 5, undo: [1, 2, 3, 4], redo: [] } };
    const r = readSessionRecord({ meta, tiles: [], steps: [step(1), step(3), step(4)] });
    expect(r.session?.meta?.history.undo).toEqual([3, 4]);
    expect(r.problems.join('\n')).toMatch(/2 step\(s\) missing/);
  });

  it(`gallery records: never throws, keeps only well-formed items, over ${RUNS} arbitrary lists`, () => {
    const params = { prompt: 'p', negativePrompt: '', style: 'none', mode: 'text2img', width: 64, height: 64, steps: 3, guidance: 4, priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 1, model: 'm', ep: 'wasm' };
    const item = fc.record({ id: or(fc.string({ maxLength: 6 })), createdAt: or(fc.nat()), width: or(fc.integer({ min: 1, max: 64 })), height: or(fc.integer({ min: 1, max: 64 })), png: or(fc.uint8Array({ maxLength: 8 })), params: or(fc.constant(params)) }, { requiredKeys: [] });
    fc.assert(fc.property(fc.array(fc.oneof({ weight: 4, arbitrary: item }, { weight: 1, arbitrary: junk }), { maxLength: 5 }), (raw) => {
      const { items, skipped } = readGalleryRecords(raw);
      expect(items.length + skipped).toBe(raw.length);
      for (const i of items) {
        expect(typeof i.id).toBe('string');
        expect(i.png).toBeInstanceOf(Uint8Array);
        expect(typeof i.params.prompt).toBe('string');
      }
    }), { seed: SEED, numRuns: RUNS });
  });
});
