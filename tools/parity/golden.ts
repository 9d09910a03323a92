/** Reading golden files (SPEC §4): tensors as base64 little-endian float32 or int64 lists. */

/** A decoded golden tensor. */
export interface GoldenTensor {
  readonly dtype: 'float32' | 'int64';
  readonly shape: readonly number[];
  readonly data: Float32Array | number[];
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Decode `{dtype, shape, b64|data}`; throws a clear error for anything else. */
export function tensor(value: unknown, what: string): GoldenTensor {
  const v = value as { dtype?: unknown; shape?: unknown; b64?: unknown; data?: unknown } | null;
  if (!v || typeof v !== 'object' || !Array.isArray(v.shape)) throw new Error(`${what}: not a golden tensor`);
  const shape = v.shape as number[];
  const n = shape.reduce((a, b) => a * b, 1);
  if (v.dtype === 'float32' && typeof v.b64 === 'string') {
    const bytes = base64ToBytes(v.b64);
    if (bytes.length !== n * 4) throw new Error(`${what}: ${bytes.length} bytes for shape [${shape.join(',')}]`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, true);
    return { dtype: 'float32', shape, data };
  }
  if (v.dtype === 'int64' && Array.isArray(v.data)) {
    const data = (v.data as unknown[]).flat(Infinity as 1) as number[];
    if (data.length !== n) throw new Error(`${what}: ${data.length} values for shape [${shape.join(',')}]`);
    return { dtype: 'int64', shape, data };
  }
  throw new Error(`${what}: unsupported tensor encoding (dtype ${String(v.dtype)})`);
}

/** A float32 golden tensor's data. */
export function floats(value: unknown, what: string): Float32Array {
  const t = tensor(value, what);
  if (t.dtype === 'float32') return t.data as Float32Array;
  return Float32Array.from(t.data as number[]);
}

/** An int64 golden tensor (or plain list) as numbers. */
export function ints(value: unknown, what: string): number[] {
  if (Array.isArray(value)) return (value as unknown[]).flat(Infinity as 1) as number[];
  const t = tensor(value, what);
  return Array.from(t.data as ArrayLike<number>);
}

/** Strict-JSON configs carry non-finite numbers as strings; turn them back into numbers. */
export function reviveNonFinite<T>(value: T): T {
  if (value === 'Infinity') return Infinity as T;
  if (value === '-Infinity') return -Infinity as T;
  if (value === 'NaN') return NaN as T;
  if (Array.isArray(value)) return value.map(reviveNonFinite) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveNonFinite(v)])) as T;
  }
  return value;
}
