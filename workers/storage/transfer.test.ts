import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { toErrorData } from '../errors.ts';
import { MemoryFileStore, type FileStore } from './files.ts';
import type { FileRecord } from './state.ts';
import { BundleServer } from './testing/bundle-server.ts';
import { blobSource, httpSource, transferFile, type TransferHooks } from './transfer.ts';

const SIZE = 2_000_003;
let dir: string;
let data: Buffer;
let sha: string;
let server: BundleServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'transfer-'));
  data = randomBytes(SIZE);
  sha = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(dir, 'big.bin'), data);
  writeFileSync(join(dir, 'small.json'), '{"a":1}');
  server = await BundleServer.start(dir);
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  server.log.length = 0;
  server.switches.stall = null;
  server.switches.corrupt = null;
  server.switches.missing.clear();
});

function fileRecord(over: Partial<FileRecord> = {}): FileRecord {
  return {
    path: 'big.bin', bytes: SIZE, sha256: sha, optional: false, absent: false, verified: false,
    storedBytes: null, storedSha256: null, validator: null, ...over,
  };
}

function hooks() {
  const events: { start: number; total: number | null }[] = [];
  let bytes = 0;
  let checked = 0;
  const h: TransferHooks = {
    onStart: async (start, total) => { events.push({ start, total }); },
    onBytes: (n) => { bytes += n; },
    onChecking: (c) => { checked = c; },
  };
  return { h, events, get bytes() { return bytes; }, get checked() { return checked; } };
}

const url = (path: string) => `${server.url}m/${path}`;
const run = (store: FileStore, file: FileRecord, h: TransferHooks, signal = new AbortController().signal) =>
  transferFile(httpSource(url(file.path), file.optional, fetch), file, store, `b/${file.path}`, signal, h);

async function errorOf(p: Promise<unknown>) {
  try { await p; } catch (e) { return toErrorData(e); }
  throw new Error('expected a rejection');
}

describe('transferFile over HTTP', () => {
  test('a fresh download streams, hashes and verifies the whole file', async () => {
    const store = new MemoryFileStore();
    const t = hooks();
    const r = await run(store, fileRecord(), t.h);
    expect(r).toEqual({ kind: 'verified', bytes: SIZE, sha256: sha });
    expect(t.events).toEqual([{ start: 0, total: SIZE }]);
    expect(t.bytes).toBe(SIZE);
    expect(server.requestsFor('big.bin')).toMatchObject([{ range: null, status: 200, bytes: SIZE }]);
    expect(Buffer.from(await (await store.read('b/big.bin'))!.arrayBuffer()).equals(data)).toBe(true);
  });

  test('interrupted mid-file, then resumed with Range + If-Range: finished bytes are not fetched again', async () => {
    const store = new MemoryFileStore();
    server.switches.stall = { path: 'big.bin', after: 700_000 };
    const first = hooks();
    let validator = null as FileRecord['validator'];
    first.h.onStart = async (_s, _t, v) => { validator = v; };
    const pending = errorOf(run(store, fileRecord(), first.h));
    await until(() => server.requestsFor('big.bin')[0]?.bytes === 700_000);
    await server.stop();
    const err = await pending;
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.message).toMatch(/stopped at .* Press Download to resume/);
    expect(await store.size('b/big.bin')).toBe(700_000);
    expect(validator?.etag).toMatch(/^"/);

    await server.listen();
    const second = hooks();
    const r = await run(store, fileRecord({ validator }), second.h);
    expect(r).toEqual({ kind: 'verified', bytes: SIZE, sha256: sha });
    expect(second.checked).toBe(700_000); // the stored prefix was re-hashed from storage
    expect(second.events).toEqual([{ start: 700_000, total: SIZE }]);
    const [a, b] = server.requestsFor('big.bin');
    expect(a).toMatchObject({ range: null, bytes: 700_000 });
    expect(b).toMatchObject({ range: 'bytes=700000-', ifRange: validator?.etag, status: 206, bytes: SIZE - 700_000 });
    expect(a!.bytes + b!.bytes).toBe(SIZE);
  });

  test('a stalled response that is released completes in one request (test server check)', async () => {
    server.switches.stall = { path: 'big.bin', after: 100_000 };
    const pending = run(new MemoryFileStore(), fileRecord(), hooks().h);
    await until(() => server.stalled);
    server.release();
    expect(await pending).toEqual({ kind: 'verified', bytes: SIZE, sha256: sha });
    expect(server.requestsFor('big.bin')).toMatchObject([{ range: null, status: 200, bytes: SIZE }]);
  });

  test('If-Range with a stale validator gets the whole file (200) and the prefix is replaced', async () => {
    const store = new MemoryFileStore();
    const sink = await store.open('b/big.bin', 0);
    await sink.write(new Uint8Array(500_000).fill(7)); // bytes of an older version of the file
    await sink.close();
    const t = hooks();
    const r = await run(store, fileRecord({ validator: { etag: '"old-version"', lastModified: null } }), t.h);
    expect(r).toEqual({ kind: 'verified', bytes: SIZE, sha256: sha });
    expect(server.requestsFor('big.bin')).toMatchObject([{ range: 'bytes=500000-', ifRange: '"old-version"', status: 200, bytes: SIZE }]);
    expect(t.events).toEqual([{ start: 0, total: SIZE }]);
  });

  test('a complete, valid stored file is verified without any request', async () => {
    const store = new MemoryFileStore();
    await run(store, fileRecord(), hooks().h);
    server.log.length = 0;
    expect(await run(store, fileRecord(), hooks().h)).toEqual({ kind: 'verified', bytes: SIZE, sha256: sha });
    expect(server.log).toEqual([]);
  });

  test('one corrupted byte: INTEGRITY_MISMATCH with both hashes, and the damaged file is deleted', async () => {
    const store = new MemoryFileStore();
    server.switches.corrupt = { path: 'big.bin', offset: 1_234_567 };
    const err = await errorOf(run(store, fileRecord(), hooks().h));
    expect(err).toMatchObject({ code: 'INTEGRITY_MISMATCH', file: 'big.bin', expected: sha });
    expect(err.actual).toMatch(/^[0-9a-f]{64}$/);
    expect(err.actual).not.toBe(sha);
    expect(await store.size('b/big.bin')).toBeNull();
  });

  test('404: MISSING_FILE for a required file, absent for an optional one', async () => {
    server.switches.missing.add('big.bin');
    const err = await errorOf(run(new MemoryFileStore(), fileRecord(), hooks().h));
    expect(err.code).toBe('MISSING_FILE');
    expect(err.message).toMatch(/HTTP 404/);
    expect(await run(new MemoryFileStore(), fileRecord({ path: 'nope.json', bytes: null, sha256: null, optional: true }), hooks().h))
      .toEqual({ kind: 'absent' });
  });

  test('an unreachable host is a NETWORK_ERROR that mentions CORS', async () => {
    const file = fileRecord();
    const src = httpSource('http://127.0.0.1:9/big.bin', false, fetch);
    const err = await errorOf(transferFile(src, file, new MemoryFileStore(), 'b/big.bin', new AbortController().signal, hooks().h));
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.message).toMatch(/CORS/);
  });

  test('cancel pauses with CANCELLED and keeps the prefix', async () => {
    const store = new MemoryFileStore();
    const ctrl = new AbortController();
    server.switches.chunkDelayMs = 5;
    try {
      const t = hooks();
      t.h.onBytes = () => { if (!ctrl.signal.aborted) ctrl.abort(); };
      const err = await errorOf(run(store, fileRecord(), t.h, ctrl.signal));
      expect(err.code).toBe('CANCELLED');
      expect(err.message).toMatch(/paused/);
      expect((await store.size('b/big.bin'))!).toBeGreaterThan(0);
    } finally {
      server.switches.chunkDelayMs = 0;
    }
  });

  test('files without a manifest hash are stored whole and their sha256 recorded', async () => {
    const r = await run(new MemoryFileStore(), fileRecord({ path: 'small.json', bytes: null, sha256: null }), hooks().h);
    expect(r).toEqual({ kind: 'verified', bytes: 7, sha256: createHash('sha256').update('{"a":1}').digest('hex') });
  });

  test('a quota error while writing becomes QUOTA_EXCEEDED naming the file', async () => {
    const inner = new MemoryFileStore();
    const full: FileStore = {
      ...inner, kind: inner.kind, canAppend: true,
      size: (p) => inner.size(p), read: (p) => inner.read(p), remove: (p) => inner.remove(p),
      writeText: (p, t) => inner.writeText(p, t), readText: (p) => inner.readText(p), list: (p) => inner.list(p),
      open: async (p, from) => {
        const sink = await inner.open(p, from);
        let written = 0;
        return {
          write: async (c) => {
            if (written + c.byteLength > 1_000_000) throw new DOMException('disk full', 'QuotaExceededError');
            written += c.byteLength;
            await sink.write(c);
          },
          close: () => sink.close(),
        };
      },
    };
    const err = await errorOf(run(full, fileRecord(), hooks().h));
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', file: 'big.bin' });
    expect((await inner.size('b/big.bin'))!).toBeLessThanOrEqual(1_000_000);
  });
});

describe('transferFile from a local file', () => {
  test('copies and verifies; resumes a stored prefix by slicing', async () => {
    const store = new MemoryFileStore();
    const sink = await store.open('b/big.bin', 0);
    await sink.write(data.subarray(0, 300_000));
    await sink.close();
    const t = hooks();
    const blob = new Blob([new Uint8Array(data)]);
    const r = await transferFile(blobSource(blob, 'the folder', false, 'big.bin'), fileRecord(), store, 'b/big.bin', new AbortController().signal, t.h);
    expect(r).toEqual({ kind: 'verified', bytes: SIZE, sha256: sha });
    expect(t.events).toEqual([{ start: 300_000, total: SIZE }]);
    expect(t.bytes).toBe(SIZE - 300_000);
  });

  test('a file missing from the folder is MISSING_FILE naming it', async () => {
    const err = await errorOf(transferFile(blobSource(null, 'the folder', false, 'unet.onnx'), fileRecord({ path: 'unet.onnx' }),
      new MemoryFileStore(), 'b/unet.onnx', new AbortController().signal, hooks().h));
    expect(err).toMatchObject({ code: 'MISSING_FILE', file: 'unet.onnx' });
  });
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
