/**
 * The manifest parser's property suite (manifest.property.test.ts) on the exported tiny Kandinsky 2.1 manifest
 * (version 2): arbitrary values at any path, the family and text_multilingual included. Every outcome is a
 * manifest whose family is known and, for 2.1, has its multilingual tokenizer and encoder, or a BAD_MANIFEST
 * naming a field; never another error.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SCHEDULER_KINDS, createScheduler, decoderConfigFor } from '../schedulers/index.ts';
import { MANIFEST_BOUNDS, dimRules, manifestFamily, type BundleManifest } from './manifest.ts';
import { parseOrRefused } from '../testing/manifest-fuzz.ts';

const text = readFileSync(new URL('../../public/models/tiny-kandinsky-2-1/manifest.json', import.meta.url), 'utf8');
type Path = readonly (string | number)[];

function paths(v: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1e9, -1, 0, 0.5, 48, 77, 2 ** 53, Number.NaN, Infinity),
  fc.constantFrom('', 'kandinsky-2.2', 'kandinsky-2.1', 'kandinsky-3', 1, 2, 3, [], {}, null, ['batch', 77, 47], { max_length: 77 }),
  fc.constant(undefined),
);
const mutation = fc.record({ path: fc.constantFrom(...paths(JSON.parse(text)).filter((p) => p.length > 0)), value: nasty });

function apply(root: Record<string, unknown>, m: { path: Path; value: unknown }): void {
  let node: unknown = root;
  for (const key of m.path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string | number, unknown>)[key];
  }
  if (typeof node !== 'object' || node === null) return;
  const last = m.path[m.path.length - 1]!;
  if (m.value === undefined) delete (node as Record<string | number, unknown>)[last];
  else (node as Record<string | number, unknown>)[last] = m.value;
}

function sound(m: BundleManifest): void {
  expect(m.text.max_length).toBeLessThanOrEqual(MANIFEST_BOUNDS.maxLength.max);
  if (manifestFamily(m) === 'kandinsky-2.1') {
    expect(m.text_multilingual?.max_length).toBeLessThanOrEqual(MANIFEST_BOUNDS.maxLength.max);
    expect(m.stages.text_encoder_multilingual).toBeDefined();
  } else {
    expect(m.stages.text_encoder_multilingual).toBeUndefined();
  }
  // Every declared fixed dim agrees with the rules, the 2.1 ties included.
  for (const r of dimRules(m)) {
    const d = m.stages[r.stage]?.[r.kind][r.io]?.[r.axis];
    if (typeof d === 'number') expect(d).toBe(r.want);
  }
  for (const kind of SCHEDULER_KINDS) createScheduler(decoderConfigFor(m.schedulers.decoder, m.scheduler_alternatives, kind));
}

describe('parseManifest properties, version 2', () => {
  it('3·10³ mutated 2.1 manifests: 0 crashes, 0 INTERNAL, every rejection a BAD_MANIFEST naming a field', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const m = JSON.parse(text) as Record<string, unknown>;
        for (const x of mutations) apply(m, x);
        const parsed = parseOrRefused(m);
        if (parsed === null) return;
        accepted++;
        sound(parsed);
      }),
      { seed: 21, numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
