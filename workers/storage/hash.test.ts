import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { hashBlobInto, isSha256Hex, sha256Hasher, sha256OfBlob } from './hash.ts';

function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24; }
  return out;
}
const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('incremental sha256', () => {
  test('hashing a stored prefix and then the rest equals hashing the whole file', async () => {
    const data = bytes(3_000_001);
    const whole = nodeSha(data);
    for (const cut of [0, 1, 63, 64, 65, 1_048_576, 2_999_999, 3_000_001]) {
      const h = await sha256Hasher();
      const n = await hashBlobInto(h, new Blob([data.slice()]), { bytes: cut });
      expect(n).toBe(cut);
      // The "network" part arrives in uneven chunks.
      for (let at = cut; at < data.length; at += 77_777) h.update(data.subarray(at, Math.min(at + 77_777, data.length)));
      expect(h.digest('hex')).toBe(whole);
    }
  });

  test('sha256OfBlob matches node:crypto and reports every byte', async () => {
    const data = bytes(200_000, 7);
    expect(await sha256OfBlob(new Blob([data.slice()]))).toBe(nodeSha(data));
    let seen = 0;
    await hashBlobInto(await sha256Hasher(), new Blob([data.slice()]), { onBytes: (n) => { seen += n; } });
    expect(seen).toBe(data.length);
  });

  test('one flipped byte changes the digest', async () => {
    const data = bytes(10_000, 3);
    const bad = data.slice();
    bad[5_000] = bad[5_000]! ^ 1;
    expect(await sha256OfBlob(new Blob([bad]))).not.toBe(nodeSha(data));
  });

  test('an aborted hash stops with AbortError', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(hashBlobInto(await sha256Hasher(), new Blob([bytes(10)]), { signal: ctrl.signal })).rejects.toThrow();
  });

  test('isSha256Hex', () => {
    expect(isSha256Hex('a'.repeat(64))).toBe(true);
    expect(isSha256Hex('g'.repeat(64))).toBe(false);
    expect(isSha256Hex('a'.repeat(63))).toBe(false);
  });
});
