import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { bundleDirBytes } from '../testing/bundle-dir.ts';
import { loadBundle } from './bundle.ts';
import { rejectedEngineError } from '../testing/engine-error.ts';

const bundleDir = fileURLToPath(new URL('../../public/models/tiny-kandinsky-2-2/', import.meta.url));

/** Every file of the fixture bundle, keyed by its path inside the bundle. */
const bundleFiles = (): Map<string, Uint8Array> => bundleDirBytes(bundleDir);


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
    const e = await rejectedEngineError(loadBundle({ kind: 'files', files }, { verify: true }));
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
    const e = await rejectedEngineError(b.readFile('unet.onnx'));
    expect(e.code).toBe(ErrorCode.Integrity);
    expect(e.message).toMatch(/unet.onnx.*size is 1000 bytes but the manifest expects 3776083 bytes/);
    const v = await rejectedEngineError(loadBundle({ kind: 'files', files }, { verify: true }));
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
    const e = await rejectedEngineError(loadBundle({ kind: 'files', files }));
    expect(e.code).toBe(ErrorCode.MissingFile);
    expect(e.message).toContain('prior_stats.json');
    const none = await rejectedEngineError(loadBundle({ kind: 'files', files: new Map() }));
    expect(none.code).toBe(ErrorCode.MissingFile);
    expect(none.message).toContain('manifest.json');
  });

  it('rejects prior stats of the wrong length and a manifest that is not JSON', async () => {
    const files = bundleFiles();
    files.set('prior_stats.json', new TextEncoder().encode(JSON.stringify({ clip_mean: [1, 2], clip_std: [1, 2] })));
    const e = await rejectedEngineError(loadBundle({ kind: 'files', files }));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toMatch(/prior_stats.json: "clip_mean" should be 32 finite numbers/);
    files.set('manifest.json', new TextEncoder().encode('not json'));
    const m = await rejectedEngineError(loadBundle({ kind: 'files', files }));
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
      const e = await rejectedEngineError(loadBundle({ kind: 'url', baseUrl: `${base}/` }));
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
      const e = await rejectedEngineError(loadBundle({ kind: 'url', baseUrl: base }, { verify: true }));
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
    const e = await rejectedEngineError(loadBundle({ kind: 'url', baseUrl: `http://127.0.0.1:${port}/` }));
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

describe('loadBundle from a URL: paths stay inside the bundle folder (issue 13)', () => {
  const base = 'https://models.example/k/tiny/';
  const manifestText = new TextDecoder().decode(bundleFiles().get('manifest.json'));

  /** An in-memory host for the bundle at `base`; every other URL (another origin, data:) "works" too, and is logged. */
  function host(edit: (m: Record<string, any>) => void): { fetch: typeof fetch; outside: string[] } {
    const files = bundleFiles();
    const m = JSON.parse(manifestText) as Record<string, any>;
    edit(m);
    files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
    const outside: string[] = [];
    const serve: typeof fetch = async (input) => {
      const url = String(input);
      const inside = url.startsWith(base) ? files.get(decodeURIComponent(url.slice(base.length))) : undefined;
      if (!url.startsWith(base)) outside.push(url);
      const name = url.split(/[/\\]/).at(-1) ?? '';
      const body = inside ?? files.get(name) ?? files.get(`tokenizer/${name}`) ?? files.get('prior_stats.json')!;
      return new Response(body.slice());
    };
    return { fetch: serve, outside };
  }

  it.each<[string, (m: Record<string, any>) => void]>([
    ['stages.unet.file', (m) => { m.stages.unet.file = '\t/\t/evil.example/unet.onnx'; }],
    ['stages.unet.file', (m) => { m.stages.unet.file = 'ht\ttps:\t/\t/evil.example/unet.onnx'; }],
    ['stages.unet.file', (m) => { m.stages.unet.file = 'da\tta:application/octet-stream;base64,AAAA'; }],
    ['stages.unet.file', (m) => { m.stages.unet.file = './unet.onnx'; }],
    ['stages.unet.external_data[0].path', (m) => {
      m.stages.unet.external_data = [{ path: ' \t/\t/evil.example/unet.onnx_data', bytes: 1, sha256: 'a'.repeat(64) }];
    }],
    ['text.tokenizer', (m) => { m.text.tokenizer = '%2e%2e/%2e%2e/tokenizer/tokenizer.json'; }],
    ['text.tokenizer', (m) => { m.text.tokenizer = '  //evil.example/tokenizer/tokenizer.json'; }],
    ['stages.prior.stats', (m) => { m.stages.prior.stats = 'da\nta:application/json,{"clip_mean":[],"clip_std":[]}'; }],
    ['stages.prior.stats', (m) => { m.stages.prior.stats = '\\\\evil.example\\prior_stats.json'; }],
  ])('%s that would leave the folder: BAD_MANIFEST naming it, nothing fetched outside (%#)', async (field, edit) => {
    const { fetch: serve, outside } = host(edit);
    const e = await rejectedEngineError(loadBundle({ kind: 'url', baseUrl: base }, { fetch: serve, verify: true }));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain(`"${field}"`);
    expect(outside).toEqual([]);
  });

  it('the unedited bundle loads through the same host', async () => {
    const { fetch: serve, outside } = host(() => undefined);
    await expect(loadBundle({ kind: 'url', baseUrl: base }, { fetch: serve, verify: true })).resolves.toBeDefined();
    expect(outside).toEqual([]);
  });
});

describe('loadBundle from a URL: a redirect to another origin is refused (issue 13)', () => {
  let target: Server;
  let redirector: Server;
  let from = '';
  const files = bundleFiles();

  beforeAll(async () => {
    target = createServer((req, res) => {
      const body = files.get(decodeURIComponent((req.url ?? '/').replace(/^\/[^/]+\//, '')));
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const to = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    // manifest.json is served here; every other file is redirected: /same/ within this origin, /other/ to the target's.
    redirector = createServer((req, res) => {
      const url = req.url ?? '/';
      const path = url.replace(/^\/[^/]+\//, '');
      if (path === 'manifest.json') {
        res.writeHead(200).end(files.get('manifest.json'));
      } else if (url.startsWith('/same/')) {
        const body = files.get(decodeURIComponent(path));
        res.writeHead(body ? 200 : 404).end(body);
      } else {
        res.writeHead(302, { location: `${to}/b/${path}` }).end();
      }
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    from = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all([target, redirector].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  it('CROSS_ORIGIN_REDIRECT naming both origins, not a loaded bundle', async () => {
    const e = await rejectedEngineError(loadBundle({ kind: 'url', baseUrl: `${from}/other/` }));
    expect(e.code).toBe(ErrorCode.CrossOriginRedirect);
    expect(e.message).toMatch(/redirected to another origin \(http:\/\/127\.0\.0\.1:\d+\)/);
    expect(e.details).toMatchObject({ expected: from });
  });

  it('a bundle served by its own origin still loads', async () => {
    await expect(loadBundle({ kind: 'url', baseUrl: `${from}/same/` })).resolves.toBeDefined();
  });
});
