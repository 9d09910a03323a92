import { describe, expect, it } from 'vitest';
import {
  INITIAL_MODES, WEIGHTS, fromSaved, referencedImages, toSaved, withImage, withMode, withStrength, withText, withoutInput, withWeight,
  type ImageRef,
} from './state.ts';

const ref = (c: string): ImageRef => ({ id: `sha256-${c.repeat(64)}`, width: 64, height: 64, source: 'file', name: `${c}.png` });

describe('mode state', () => {
  it('one image in img2img and variations, a list in fusion', () => {
    let s = withImage(withMode(INITIAL_MODES, 'variations'), ref('a'));
    s = withImage(s, ref('b'));
    expect(s.single?.name).toBe('b.png');
    expect(s.conditions).toEqual([]);
    s = withMode(s, 'fusion');
    expect(s.conditions).toEqual([{ kind: 'image', key: 0, image: ref('b'), weight: WEIGHTS.image }]);
    s = withText(withImage(s, ref('c')));
    expect(s.conditions.map((c) => c.key)).toEqual([0, 1, 2]);
    s = withoutInput(s, 0);
    expect(s.conditions.map((c) => c.kind)).toEqual(['image', 'text']);
    expect(referencedImages(s).sort()).toEqual([ref('b').id, ref('c').id].sort());
  });

  it('an image chosen for fusion carries over to an empty single-image mode', () => {
    const s = withMode(withImage(withMode(INITIAL_MODES, 'fusion'), ref('a')), 'img2img');
    expect(s.single?.id).toBe(ref('a').id);
  });

  it('ignores non-finite weights and clamps strength', () => {
    const s = withImage(withMode(INITIAL_MODES, 'fusion'), ref('a'));
    expect(withWeight(s, 0, Number.NaN)).toBe(s);
    expect(withWeight(s, 0, -0.25).conditions[0]?.weight).toBe(-0.25);
    expect(withStrength(s, 1.5).strength).toBe(1);
  });

  it('a change clears the last problem', () => {
    const s = { ...withMode(INITIAL_MODES, 'fusion'), problem: { key: 'errNoConditions' as const } };
    expect(withText(s).problem).toBeNull();
  });

  it('saved state round-trips; malformed parts are dropped', () => {
    const s = withStrength(withText(withImage(withMode(INITIAL_MODES, 'fusion'), ref('a'))), 0.3);
    expect(fromSaved(JSON.parse(JSON.stringify(toSaved(s))))).toEqual({ ...s, problem: null, busy: false });
    const bad = fromSaved({ mode: 'nonsense', single: { id: 3 }, conditions: [{ kind: 'image', key: 0, weight: 1 }, { kind: 'text', key: 1, prompt: 'x', weight: 0.5 }], strength: 7 });
    expect(bad.mode).toBe('text2img');
    expect(bad.single).toBeNull();
    expect(bad.conditions).toEqual([{ kind: 'text', key: 1, prompt: 'x', weight: 0.5 }]);
    expect(bad.strength).toBe(INITIAL_MODES.strength);
    expect(fromSaved(null)).toEqual(INITIAL_MODES);
  });
});
