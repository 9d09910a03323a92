/**
 * Ridge regression for the linear prior (README "Prior kinds"): Y ≈ X Wᵀ + b with an unpenalised
 * intercept, λ chosen by exact leave-one-out error. Solved in the dual (kernel) form, because a
 * personal prior has far fewer images N than dimensions d (1280 for 2.2, 768 for 2.1):
 *   K = Xc Xcᵀ (N×N), A = (K + λI)⁻¹ Yc, W = Xcᵀ A  (Hastie, Tibshirani & Friedman, ESL §5.8 / §18.3.5),
 * so memory is a few N×N matrices plus W itself (d², 6.5 MB for d = 1280), never d×d solves.
 * Leave-one-out residuals of a linear smoother ŷ = H y are e_i / (1 − H_ii) exactly (ESL eq. 7.52); here
 * H = 11ᵀ/N + K(K + λI)⁻¹, whose diagonal is 1/N + 1 − λ (K + λI)⁻¹_ii, and the fitted residuals are λA.
 * Every solve is a Cholesky factorisation of K + λI (symmetric positive definite for λ > 0).
 */

/** What the fit returns; `weight` is row-major [q, p] (row j maps the inputs to output j). */
export interface RidgeFit {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly lambda: number;
  readonly looError: number;
  readonly baselineError: number;
  readonly grid: readonly { readonly lambda: number; readonly looError: number }[];
  /** Every input row is the same (one shared caption): no direction to regress on, so W = 0 and b = mean(Y). */
  readonly constantInput: boolean;
}

export interface RidgeOptions {
  /** λ values to try; default 13 values from 1e-4 to 1e2 times trace(K)/N (the inputs' variance scale). */
  readonly lambdas?: readonly number[];
  /** Called after each λ (and before the final solve); may throw to cancel, may be async to yield. */
  readonly onStep?: (step: number, total: number) => void | Promise<void>;
}

/** λ grid relative to the inputs' scale: s · trace(K)/N for s = 10^(-4 + k/2), k = 0..12. */
export function defaultLambdas(traceK: number, n: number): number[] {
  return Array.from({ length: 13 }, (_, k) => 10 ** (-4 + k / 2) * (traceK / n));
}

/** In-place lower Cholesky factor of a symmetric positive-definite n×n matrix (row-major); throws if not SPD. */
export function cholesky(m: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = m[j * n + j]!;
    for (let k = 0; k < j; k++) d -= m[j * n + k]! ** 2;
    if (!(d > 0)) throw new RangeError(`cholesky: matrix is not positive definite (pivot ${j} is ${d})`);
    const ljj = Math.sqrt(d);
    m[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = m[i * n + j]!;
      for (let k = 0; k < j; k++) s -= m[i * n + k]! * m[j * n + k]!;
      m[i * n + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) m[j * n + k] = 0;
  }
  return m;
}

/** (L Lᵀ)⁻¹ from a lower Cholesky factor, as a full symmetric matrix (row-wise loops: contiguous memory). */
function inverseFromCholesky(L: Float64Array, n: number): Float64Array {
  // Linv = L⁻¹ (lower triangular), row by row: Linv[i,:] = (e_i − Σ_{k<i} L[i,k] Linv[k,:]) / L[i,i].
  const Linv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    Linv[row + i] = 1;
    for (let k = 0; k < i; k++) {
      const l = L[row + k]!;
      if (l === 0) continue;
      const rk = k * n;
      for (let c = 0; c <= k; c++) Linv[row + c]! -= l * Linv[rk + c]!;
    }
    const d = L[row + i]!;
    for (let c = 0; c <= i; c++) Linv[row + c]! /= d;
  }
  // M⁻¹ = Linvᵀ Linv = Σ_k Linv[k,:]ᵀ Linv[k,:] (upper triangle, then mirrored).
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const a = Linv[rk + i]!;
      if (a === 0) continue;
      const ri = i * n;
      for (let j = i; j <= k; j++) inv[ri + j]! += a * Linv[rk + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) inv[j * n + i] = inv[i * n + j]!;
  return inv;
}

/** Column means and centred copy of an n×d row-major matrix. */
function centre(a: ArrayLike<number>, n: number, d: number): { mean: Float64Array; c: Float64Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k]! += a[i * d + k]!;
  for (let k = 0; k < d; k++) mean[k]! /= n;
  const c = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) c[i * d + k] = a[i * d + k]! - mean[k]!;
  return { mean, c };
}

/** A Aᵀ for an n×d row-major matrix (n×n). */
function gram(a: Float64Array, n: number, d: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[i * d + k]! * a[j * d + k]!;
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  }
  return g;
}

/**
 * Fit Y [n, q] ≈ X [n, p] Wᵀ + b by ridge regression over a λ grid, keeping the λ with the least
 * leave-one-out mean squared error (per output dimension). Needs n ≥ 3.
 */
export async function fitRidge(X: ArrayLike<number>, Y: ArrayLike<number>, n: number, p: number, q: number, options: RidgeOptions = {}): Promise<RidgeFit> {
  if (n < 3) throw new RangeError(`fitRidge: needs at least 3 samples for leave-one-out, got ${n}`);
  if (X.length !== n * p || Y.length !== n * q) throw new RangeError(`fitRidge: X is ${X.length} values, Y ${Y.length}; expected ${n}×${p} and ${n}×${q}`);
  const x = centre(X, n, p);
  const y = centre(Y, n, q);
  // Mean-only predictor: its leave-one-out residual is (y_i − ȳ) · n/(n − 1).
  let baseline = 0;
  for (let k = 0; k < n * q; k++) baseline += y.c[k]! ** 2;
  baseline *= (n / (n - 1)) ** 2 / (n * q);

  const K = gram(x.c, n, p);
  let traceK = 0;
  for (let i = 0; i < n; i++) traceK += K[i * n + i]!;
  let scaleX = 0;
  for (let k = 0; k < p; k++) scaleX += x.mean[k]! ** 2;
  if (traceK <= 1e-24 * n * (1 + scaleX)) {
    // All inputs equal (one shared caption): Xc = 0, so W = 0 for every λ and b = ȳ.
    await options.onStep?.(1, 1);
    return {
      weight: new Float32Array(q * p), bias: Float32Array.from(y.mean), lambda: 0, looError: baseline,
      baselineError: baseline, grid: [], constantInput: true,
    };
  }

  const lambdas = options.lambdas ?? defaultLambdas(traceK, n);
  const total = lambdas.length + 1;
  const G = gram(y.c, n, q); // Yc Ycᵀ: the fitted residuals' norms come from it without forming A per λ.
  const grid: { lambda: number; looError: number }[] = [];
  let best = { lambda: lambdas[0]!, looError: Infinity, inv: null as Float64Array | null };
  for (const [step, lambda] of lambdas.entries()) {
    const M = Float64Array.from(K);
    for (let i = 0; i < n; i++) M[i * n + i]! += lambda;
    const inv = inverseFromCholesky(cholesky(M, n), n);
    // Residual row i is λ A_i with A = M⁻¹ Yc, so ‖e_i‖² = λ² (M⁻¹ G M⁻¹)_ii.
    let loo = 0;
    const row = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // row = (M⁻¹ G)_i, accumulated over G's rows (contiguous); then (M⁻¹ G M⁻¹)_ii = row · M⁻¹_i (M⁻¹ symmetric).
      row.fill(0);
      for (let k = 0; k < n; k++) {
        const m = inv[i * n + k]!;
        const gk = k * n;
        for (let j = 0; j < n; j++) row[j]! += m * G[gk + j]!;
      }
      let rowSq = 0;
      for (let j = 0; j < n; j++) rowSq += row[j]! * inv[i * n + j]!;
      const oneMinusH = lambda * inv[i * n + i]! - 1 / n;
      loo += oneMinusH > 1e-15 ? (lambda * lambda * rowSq) / (oneMinusH * oneMinusH) : Infinity;
    }
    const looError = loo / (n * q);
    grid.push({ lambda, looError });
    if (looError < best.looError) best = { lambda, looError, inv };
    await options.onStep?.(step + 1, total);
  }
  const inv = best.inv;
  if (inv === null) throw new RangeError('fitRidge: every λ gave a non-finite leave-one-out error');

  // A = M⁻¹ Yc [n, q]; W [q, p] = (Xcᵀ A)ᵀ; b = ȳ − W x̄.
  const A = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const m = inv[i * n + k]!;
      if (m === 0) continue;
      for (let j = 0; j < q; j++) A[i * q + j]! += m * y.c[k * q + j]!;
    }
  }
  const W = new Float64Array(q * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < q; j++) {
      const a = A[i * q + j]!;
      const row = j * p;
      for (let k = 0; k < p; k++) W[row + k]! += a * x.c[i * p + k]!;
    }
  }
  const bias = new Float32Array(q);
  for (let j = 0; j < q; j++) {
    let s = y.mean[j]!;
    for (let k = 0; k < p; k++) s -= W[j * p + k]! * x.mean[k]!;
    bias[j] = s;
  }
  await options.onStep?.(total, total);
  return {
    weight: Float32Array.from(W), bias, lambda: best.lambda, looError: best.looError, baselineError: baseline, grid,
    constantInput: false,
  };
}
