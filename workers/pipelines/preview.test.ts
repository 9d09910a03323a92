import { describe, expect, it } from 'vitest';
import { PreviewPacer } from './preview.ts';

/** Steps of `stepMs` each, previews of `previewMs`: which steps end with a preview, and the previews' share of the time. */
function simulate(every: number, maxShare: number, steps: number, stepMs: number, previewMs: number): { at: number[]; share: number } {
  let now = 0;
  const pacer = new PreviewPacer({ every, maxShare }, now);
  const at: number[] = [];
  let spent = 0;
  for (let i = 0; i < steps; i++) {
    now += stepMs;
    if (pacer.due(i, steps, now)) {
      at.push(i + 1);
      now += previewMs;
      spent += previewMs;
      pacer.took(previewMs);
    }
  }
  return { at, share: spent / now };
}

describe('PreviewPacer', () => {
  it('without a time limit, previews every `every` steps and never after the last', () => {
    expect(simulate(1, 1, 5, 10, 1000).at).toEqual([1, 2, 3, 4]);
    expect(simulate(2, 1, 5, 10, 1000).at).toEqual([2, 4]);
    expect(simulate(3, 1, 6, 10, 1000).at).toEqual([3]);
    expect(simulate(1, 1, 1, 10, 1000).at).toEqual([]);
  });

  it('keeps previews within maxShare of the loop time, the first one waiting until the loop can pay for it', () => {
    for (const [share, stepMs, previewMs] of [[0.1, 100, 300], [0.25, 50, 200], [0.1, 200, 20], [0.5, 10, 10]] as const) {
      const { at, share: used } = simulate(1, share, 200, stepMs, previewMs);
      expect(used, `${share} ${stepMs} ${previewMs}`).toBeLessThanOrEqual(share);
      expect(at.length).toBeGreaterThan(0);
      // The first preview comes once the loop's time covers it at the mean step's cost.
      expect(at[0]).toBe(Math.ceil(1 / share));
    }
    // 100 ms steps and 300 ms previews at 10 %: the first after 1 s of steps (step 10); then at 6 s
    // (600 ms of previews) and 9 s (900 ms), counting the previews' own time.
    expect(simulate(1, 0.1, 100, 100, 300).at.slice(0, 3)).toEqual([10, 57, 84]);
  });

  it('with `every`, a due time share waits for the next step that is a multiple of it', () => {
    expect(simulate(4, 0.1, 40, 100, 100).at[0]).toBe(12);
  });
});
