/** Host-side tensors: plain typed arrays in row-major order, no runtime wrapper. */

/** A float32 tensor on the host. */
export interface F32Tensor {
  readonly type: 'float32';
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** An int64 tensor on the host (token ids, attention masks). */
export interface I64Tensor {
  readonly type: 'int64';
  readonly data: BigInt64Array;
  readonly dims: readonly number[];
}

/** Any tensor that crosses the stage boundary. */
export type HostTensor = F32Tensor | I64Tensor;

/** Number of elements for the given dims. */
export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Build a float32 tensor, checking that data length matches dims. */
export function f32(data: Float32Array, dims: readonly number[]): F32Tensor {
  if (data.length !== numel(dims)) {
    throw new RangeError(`float32 tensor: ${data.length} values do not fill dims [${dims.join(', ')}]`);
  }
  return { type: 'float32', data, dims: [...dims] };
}

/** Build an int64 tensor, checking that data length matches dims. */
export function i64(data: BigInt64Array, dims: readonly number[]): I64Tensor {
  if (data.length !== numel(dims)) {
    throw new RangeError(`int64 tensor: ${data.length} values do not fill dims [${dims.join(', ')}]`);
  }
  return { type: 'int64', data, dims: [...dims] };
}
