/** Test helpers for the scheduler tests (Node only): golden files and deterministic inputs. */
import { readFileSync } from 'node:fs';
import type { SchedulerConfig } from './types.ts';

/** The parts of a golden case the scheduler tests read. */
export interface GoldenSchedulerCase {
  readonly kind: string;
  readonly scheduler_config: SchedulerConfig;
  readonly num_inference_steps: number;
  readonly strength?: number;
  readonly timesteps?: readonly number[];
  readonly noise: readonly { readonly shape: readonly number[]; readonly b64: string }[];
  readonly steps: readonly { readonly t: number; readonly latents: { readonly shape: readonly number[]; readonly b64: string } }[];
}

/** Read tests/golden/<name>.json. */
export function readGolden(name: string): GoldenSchedulerCase {
  const url = new URL(`../../tests/golden/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as GoldenSchedulerCase;
}

/** Decode a golden float32 tensor (little-endian base64). */
export function decodeF32(t: { readonly b64: string }): Float32Array {
  const bytes = Buffer.from(t.b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Deterministic standard normals (mulberry32 + Box-Muller); test inputs only. */
export function gaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (((x ^ (x >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

/** Largest absolute element-wise difference (the shared helper). */
export { maxAbsDiff } from '../tensor/ops.ts';

/** a·x + b·y element-wise, in float64, rounded to float32. */
export function axpby(a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  return x.map((v, i) => a * v + b * y[i]!);
}
