import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cholesky, fitRidge } from './ridge.ts';

/** The fixture script's integer hash (testdata/make_ridge_fixture.py): uniform in [-0.5, 0.5). */
function hashed(seed: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let h = (i + seed * 2 ** 24) >>> 0;
    h = Math.imul(h, 0x9e3779b1) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    out[i] = h / 2 ** 32 - 0.5;
  }
  return out;
}

/** The fixture's data: X [n,p] and Y = X B / sqrt(p) + 0.3 noise + 0.1. */
function data(n: number, p: number, q: number, seed: number): { X: Float64Array; Y: Float64Array } {
  const X = hashed(seed, n * p).map((v) => v + 0.2);
  const B = hashed(seed + 1, p * q);
  const noise = hashed(seed + 2, n * q);
  const Y = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(q);
    for (let k = 0; k < p; k++) {
      const xv = X[i * p + k]!;
      for (let j = 0; j < q; j++) row[j]! += xv * B[k * q + j]!;
    }
    for (let j = 0; j < q; j++) Y[i * q + j] = row[j]! / Math.sqrt(p) + 0.3 * noise[i * q + j]! + 0.1;
  }
  return { X, Y };
}

interface FixtureCase {
  n: number; p: number; q: number; seed: number; lambdas: number[]; loo_errors: number[]; best: number;
  bias: number[]; probe_times_w: number[]; baseline_error: number;
}

const fixture = JSON.parse(readFileSync(new URL('./testdata/ridge-fixture.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };

function maxRelErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
    err = Math.max(err, Math.abs(ours[i]! - ref[i]!));
  }
  return err / scale;
}

describe('fitRidge against numpy (primal solve) at the real embedding sizes', () => {
  for (const c of fixture.cases) {
    it(`d = ${c.p}, N = ${c.n}: same λ, leave-one-out errors, W and b`, async () => {
      const { X, Y } = data(c.n, c.p, c.q, c.seed);
      const fit = await fitRidge(X, Y, c.n, c.p, c.q);
      expect(fit.constantInput).toBe(false);
      expect(maxRelErr(fit.grid.map((g) => g.lambda), c.lambdas)).toBeLessThan(1e-9);
      expect(maxRelErr(fit.grid.map((g) => g.looError), c.loo_errors)).toBeLessThan(1e-8);
      expect(fit.grid.findIndex((g) => g.lambda === fit.lambda)).toBe(c.best);
      expect(fit.baselineError).toBeCloseTo(c.baseline_error, 12);
      // W and b are stored as float32: compare at float32 precision.
      expect(maxRelErr(fit.bias, c.bias)).toBeLessThan(1e-5);
      const probe = hashed(c.seed + 3, c.p);
      const wProbe = new Float64Array(c.q);
      for (let j = 0; j < c.q; j++) for (let k = 0; k < c.p; k++) wProbe[j]! += fit.weight[j * c.p + k]! * probe[k]!;
      expect(maxRelErr(wProbe, c.probe_times_w)).toBeLessThan(1e-5);
    });
  }
});

describe('fitRidge, exact properties', () => {
  it('its closed-form leave-one-out error equals refitting without each sample', async () => {
    const n = 9, p = 7, q = 4;
    const { X, Y } = data(n, p, q, 50);
    const lambda = 0.05;
    const full = await fitRidge(X, Y, n, p, q, { lambdas: [lambda] });
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const keep = [...Array(n).keys()].filter((k) => k !== i);
      const Xi = Float64Array.from(keep.flatMap((k) => Array.from(X.subarray(k * p, (k + 1) * p))));
      const Yi = Float64Array.from(keep.flatMap((k) => Array.from(Y.subarray(k * q, (k + 1) * q))));
      const fit = await fitRidge(Xi, Yi, n - 1, p, q, { lambdas: [lambda] });
      for (let j = 0; j < q; j++) {
        let pred = fit.bias[j]!;
        for (let k = 0; k < p; k++) pred += fit.weight[j * p + k]! * X[i * p + k]!;
        sum += (Y[i * q + j]! - pred) ** 2;
      }
    }
    // The refits' W and b are float32, so the brute-force error carries float32 rounding.
    expect(full.looError).toBeCloseTo(sum / (n * q), 6);
  });

  it('satisfies the normal equations (XcᵀXc + λI) Wᵀ = Xcᵀ Yc', async () => {
    const n = 12, p = 20, q = 6;
    const { X, Y } = data(n, p, q, 60);
    const lambda = 0.3;
    const fit = await fitRidge(X, Y, n, p, q, { lambdas: [lambda] });
    const mean = (a: Float64Array, d: number) => Array.from({ length: d }, (_, k) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += a[i * d + k]!;
      return s / n;
    });
    const xm = mean(X, p), ym = mean(Y, q);
    for (let k = 0; k < p; k++) {
      for (let j = 0; j < q; j++) {
        let lhs = lambda * fit.weight[j * p + k]!;
        let rhs = 0;
        for (let i = 0; i < n; i++) {
          const xik = X[i * p + k]! - xm[k]!;
          let xw = 0;
          for (let l = 0; l < p; l++) xw += (X[i * p + l]! - xm[l]!) * fit.weight[j * p + l]!;
          lhs += xik * xw;
          rhs += xik * (Y[i * q + j]! - ym[j]!);
        }
        expect(lhs).toBeCloseTo(rhs, 5);
      }
    }
  });

  it('one shared input (one caption): W = 0 and b is the mean target, whatever λ', async () => {
    const n = 5, p = 4, q = 3;
    const X = new Float64Array(n * p);
    for (let i = 0; i < n; i++) X.set([0.3, -1, 2, 0.5], i * p);
    const Y = hashed(70, n * q);
    const fit = await fitRidge(X, Y, n, p, q);
    expect(fit.constantInput).toBe(true);
    expect(fit.weight.every((v) => v === 0)).toBe(true);
    for (let j = 0; j < q; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += Y[i * q + j]!;
      expect(fit.bias[j]).toBeCloseTo(m / n, 6);
    }
    expect(fit.looError).toBe(fit.baselineError);
  });

  it('stops when its step hook throws (cancel), and rejects too few samples', async () => {
    const { X, Y } = data(6, 5, 3, 80);
    await expect(fitRidge(X, Y, 6, 5, 3, { onStep: (s) => { if (s === 2) throw new Error('cancelled'); } })).rejects.toThrow('cancelled');
    await expect(fitRidge(X.subarray(0, 10), Y.subarray(0, 6), 2, 5, 3)).rejects.toThrow(/at least 3/);
  });

  it('cholesky refuses a matrix that is not positive definite', () => {
    expect(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(RangeError);
    const L = cholesky(Float64Array.from([4, 2, 2, 3]), 2);
    expect(Array.from(L)).toEqual([2, 0, 1, Math.SQRT2]);
  });
});
