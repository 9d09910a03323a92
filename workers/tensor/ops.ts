/** Small Float32Array helpers shared by the pipelines. */

/** Concatenates flat arrays (e.g. batch halves [uncond, cond] along the first axis). */
export function concat(parts: readonly Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Max absolute difference of two equally long arrays (parity checks and tests). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return d; // a NaN anywhere is the answer
    if (d > m) m = d;
  }
  return m;
}
