/** Incremental sha256 (hash-wasm) over streams and stored prefixes, so multi-GB files never sit in one buffer. */
import { createSHA256, type IHasher } from 'hash-wasm';

/** A fresh, initialised sha256 hasher. */
export async function sha256Hasher(): Promise<IHasher> {
  return (await createSHA256()).init();
}

/** Feed a Blob (or its first `bytes` bytes) through `hasher` chunk by chunk; `onBytes` sees each chunk's size. */
export async function hashBlobInto(
  hasher: IHasher,
  blob: Blob,
  options: { bytes?: number; signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<number> {
  const part = options.bytes === undefined ? blob : blob.slice(0, options.bytes);
  const reader = part.stream().getReader();
  let total = 0;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      hasher.update(value);
      total += value.byteLength;
      options.onBytes?.(value.byteLength);
    }
  } finally {
    reader.releaseLock();
  }
  return total;
}

/** The sha256 (lowercase hex) of a whole Blob. */
export async function sha256OfBlob(blob: Blob, signal?: AbortSignal): Promise<string> {
  const h = await sha256Hasher();
  await hashBlobInto(h, blob, signal ? { signal } : {});
  return h.digest('hex');
}

/** True when `hex` is a sha256 in hex (any case). */
export function isSha256Hex(hex: string): boolean {
  return /^[0-9a-f]{64}$/i.test(hex);
}
