import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { bundleDirBytes } from '../testing/bundle-dir.ts';
import { loadBundle } from './bundle.ts';

const bundleDir = fileURLToPath(new URL('../../public/models/tiny-kandinsky-2-2/', import.meta.url));

/** Every file of the fixture bundle, keyed by its path inside the bundle. */
const bundleFiles = (): Map<string, Uint8Array> => bundleDirBytes(bundleDir);

async function rejection(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected a rejection');
}

describe('loadBundle from files', () => {
  it('loads manifest, prior stats and tokenizer', async () => {
    const files = bundleFiles();
    const b = await loadBundle({ kind: 'files', files });
    expect(b.manifest.name).toBe('tiny-random-kandinsky-2-2');
    expect(b.priorStats.clipMean).toHaveLength(32);
    expect(b.priorStats.clipStd).toHaveLength(32);
    const stats = JSON.parse(readFileSync(join(bundleDir, 'prior_stats.json'), 'utf8')) as { clip_mean: number[] };
    expect(b.priorStats.clipMean[5]).toBe(Math.fround(stats.clip_mean[5]!));
    expect((b.tokenizerJson as { model: { type: string } }).model.type).toBe('BPE');
    expect((b.tokenizerConfig as { pad_token: string }).pad_token).toBe('<|endoftext|>');
    const unet = await b.readFile('unet.onnx');
    expect(unet.length).toBe(b.manifest.stages.unet!.bytes);
  });

  it('verifies sizes and sha256 of every stage when asked', async () => {
    await expect(loadBundle({ kind: 'files', files: bundleFiles() }, { verify: true })).resolves.toBeDefined();
  });

  it('reports a corrupted byte as INTEGRITY_MISMATCH when verifying', async () => {
    const files = bundleFiles();
    const prior = files.get('prior.onnx')!.slice();
    prior[1000] = prior[1000]! ^ 0xff;
    files.set('prior.onnx', prior);
    const e = await rejection(loadBundle({ kind: 'files', files }, { verify: true }));
    expect(e.code).toBe(ErrorCode.Integrity);
    expect(e.message).toContain('prior.onnx');
    expect(e.message).toContain('sha256');
    expect(e.details.expected).toBe('1ebf535bf80726cbff2e312762e7e2868f39af6f07ed31a9c63ef74fc36e64b8');
    expect(e.details.actual).toMatch(/^[0-9a-f]{64}$/);
    // Without verify the bundle opens (the size is right), so the check is what caught it.
    await expect(loadBundle({ kind: 'files', files })).resolves.toBeDefined();
  });

  it('checks sizes whenever a listed file is read', async () => {
    const files = bundleFiles();
    files.set('unet.onnx', files.get('unet.onnx')!.subarray(0, 1000));
    const b = await loadBundle({ kind: 'files', files });
    const e = await rejection(b.readFile('unet.onnx'));
    expect(e.code).toBe(ErrorCode.Integrity);
    expect(e.message).toMatch(/unet.onnx.*size is 1000 bytes but the manifest expects 3776083 bytes/);
    const v = await rejection(loadBundle({ kind: 'files', files }, { verify: true }));
    expect(v.code).toBe(ErrorCode.Integrity);
  });

  it('accepts Blobs and a folder name in front of every path', async () => {
    const files = new Map<string, Blob>();
    for (const [k, v] of bundleFiles()) files.set(`tiny-kandinsky-2-2/${k}`, new Blob([v.slice().buffer]));
    const b = await loadBundle({ kind: 'files', files }, { verify: true });
    expect(b.location).toContain('tiny-kandinsky-2-2');
    expect((await b.readFile('text_encoder.onnx')).length).toBe(6437832);
  });

  it('reports missing files, and opens without the optional tokenizer config', async () => {
    const files = bundleFiles();
    files.delete('tokenizer/tokenizer_config.json');
    expect((await loadBundle({ kind: 'files', files })).tokenizerConfig).toBeNull();
    files.delete('prior_stats.json');
    const e = await rejection(loadBundle({ kind: 'files', files }));
    expect(e.code).toBe(ErrorCode.MissingFile);
    expect(e.message).toContain('prior_stats.json');
    const none = await rejection(loadBundle({ kind: 'files', files: new Map() }));
    expect(none.code).toBe(ErrorCode.MissingFile);
    expect(none.message).toContain('manifest.json');
  });

  it('rejects prior stats of the wrong length and a manifest that is not JSON', async () => {
    const files = bundleFiles();
    files.set('prior_stats.json', new TextEncoder().encode(JSON.stringify({ clip_mean: [1, 2], clip_std: [1, 2] })));
    const e = await rejection(loadBundle({ kind: 'files', files }));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/prior_stats.json: "clip_mean" should be 32 finite numbers/);
    files.set('manifest.json', new TextEncoder().encode('not json'));
    const m = await rejection(loadBundle({ kind: 'files', files }));
    expect(m.code).toBe(ErrorCode.BadManifest);
  });
});

describe('loadBundle from a URL', () => {
  let server: Server;
  let base: string;
  const files = bundleFiles();
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '/').replace(/^\/bundle\//, ''));
      requests.push(path);
      const body = files.get(path);
      if (body === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('loads and verifies the bundle over HTTP', async () => {
    const b = await loadBundle({ kind: 'url', baseUrl: base }, { verify: true });
    expect(b.manifest.embedding_dim).toBe(32);
    expect(b.location).toBe(`${base}/`);
    expect((await b.readFile('movq_decoder.onnx')).length).toBe(2970695);
    expect(requests).toContain('tokenizer/tokenizer_config.json');
  });

  it('maps 404 to MISSING_FILE naming the URL', async () => {
    const saved = files.get('tokenizer/tokenizer.json')!;
    files.delete('tokenizer/tokenizer.json');
    try {
      const e = await rejection(loadBundle({ kind: 'url', baseUrl: `${base}/` }));
      expect(e.code).toBe(ErrorCode.MissingFile);
      expect(e.message).toContain(`${base}/tokenizer/tokenizer.json`);
      expect(e.message).toContain('404');
    } finally {
      files.set('tokenizer/tokenizer.json', saved);
    }
  });

  it('reports a corrupted byte as INTEGRITY_MISMATCH when verifying', async () => {
    const saved = files.get('movq_encoder.onnx')!;
    const bad = saved.slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    files.set('movq_encoder.onnx', bad);
    try {
      const e = await rejection(loadBundle({ kind: 'url', baseUrl: base }, { verify: true }));
      expect(e.code).toBe(ErrorCode.Integrity);
      expect(e.details.file).toBe('movq_encoder.onnx');
    } finally {
      files.set('movq_encoder.onnx', saved);
    }
  });

  it('maps a connection failure to NETWORK_ERROR', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await rejection(loadBundle({ kind: 'url', baseUrl: `http://127.0.0.1:${port}/` }));
    expect(e.code).toBe(ErrorCode.Network);
    expect(e.message).toContain(`http://127.0.0.1:${port}/manifest.json`);
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const spy: typeof fetch = async (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    await loadBundle({ kind: 'url', baseUrl: base }, { fetch: spy });
    expect(seen[0]).toBe(`${base}/manifest.json`);
  });
});
