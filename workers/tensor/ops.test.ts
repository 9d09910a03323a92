import { describe, expect, it } from 'vitest';
import { concat, maxAbsDiff } from './ops.ts';

describe('ops', () => {
  it('concat joins arrays in order', () => {
    expect(Array.from(concat([Float32Array.of(1, 2), new Float32Array(0), Float32Array.of(3)]))).toEqual([1, 2, 3]);
    expect(concat([]).length).toBe(0);
  });

  it('maxAbsDiff finds the largest gap and reports NaN', () => {
    expect(maxAbsDiff(Float32Array.of(1, -2, 3), Float32Array.of(1.5, 2, 3))).toBe(4);
    expect(maxAbsDiff([1, Number.NaN], [1, 0])).toBeNaN();
    expect(maxAbsDiff([Number.NaN, 1], [0, 5])).toBeNaN();
    expect(() => maxAbsDiff([1], [1, 2])).toThrow(/lengths differ/);
  });
});
