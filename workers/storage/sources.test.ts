import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import type { Result } from '../protocol.ts';
import { TINY_BUNDLE_DIR } from '../testing/tiny-bundle.ts';
import { ModelStore } from './api.ts';
import { MemoryFileStore } from './files.ts';
import { normaliseUrl, resolveSource, type ResolveContext } from './sources.ts';
import { rejectedEngineError, thrownEngineError } from '../testing/engine-error.ts';

const noF16 = { webgpu: true, shaderF16: false, adapter: 'test' };
const tinyManifest = readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8');

function err<T>(r: Result<T>) {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('model URLs: https, or http only for this computer (issue 13)', () => {
  const app = 'https://app.example/';
  it.each(['http://evil.example/m/', 'http://192.168.1.10:8000/m/', 'http://localhost.evil.example/m/', 'http://127.0.0.2/m/'])(
    'refuses %s with BAD_REQUEST saying https', (url) => {
      const e = thrownEngineError(() => normaliseUrl(url, app));
      expect(e.code).toBe(ErrorCode.BadRequest);
      expect(e.message).toMatch(/https/);
    },
  );
  it.each(['https://huggingface.co/x/resolve/main/', 'http://localhost:8000/m/', 'http://127.0.0.1:9/m/', 'http://[::1]:8080/m/'])(
    'accepts %s', (url) => {
      expect(normaliseUrl(url, app).href).toBe(url);
    },
  );
  it('accepts http on the app\'s own origin, and refuses other schemes', () => {
    expect(normaliseUrl('/models/x/', 'http://192.168.1.10:4173/').href).toBe('http://192.168.1.10:4173/models/x/');
    for (const url of ['ftp://example.org/x', 'data:text/plain,x', 'javascript:alert(1)', 'file:///etc/']) {
      expect(thrownEngineError(() => normaliseUrl(url, app)).code).toBe(ErrorCode.BadRequest);
    }
  });
});

describe('variants.json paths stay inside the source folder (issue 13)', () => {
  const folder = 'https://models.example/k/';

  /** A host that serves variants.json at `folder`, and a manifest at any URL (another origin too), logging what lies outside. */
  function context(path: string): { ctx: ResolveContext; outside: string[] } {
    const outside: string[] = [];
    const variants = JSON.stringify({ format: 'kandinsky-onnx-variants', version: 1, variants: [{ id: 'v', path }] });
    const serve: typeof fetch = async (input) => {
      const url = String(input);
      if (!url.startsWith(folder)) outside.push(url);
      if (url === `${folder}variants.json`) return new Response(variants);
      if (url === `${folder}manifest.json`) return new Response('', { status: 404 });
      return url.endsWith('/manifest.json') ? new Response(tinyManifest) : new Response('', { status: 404 });
    };
    return { ctx: { fetch: serve, gpu: async () => noF16, builtinUrl: `${folder}builtin/`, baseHref: 'https://app.example/' }, outside };
  }

  it.each([
    ['backslashes', '\\\\evil.example\\m\\'],
    ['tab and newline inside', '\t/\t/evil.example/m/'],
    ['%2e%2e segments', '%2e%2e/%2e%2e/m/'],
    ['leading spaces', '  //evil.example/m/'],
    ['an https URL', 'https://evil.example/m/'],
    ['a "./" segment', './fp16/'],
  ])('%s: BAD_MANIFEST naming variants[0].path, and no request leaves the folder', async (_what, path) => {
    const { ctx, outside } = context(path);
    const e = await rejectedEngineError(resolveSource({ kind: 'url', url: folder }, ctx));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('variants[0].path');
    expect(outside).toEqual([]);
  });

  it('a plain folder resolves under the source', async () => {
    const { ctx, outside } = context('fp32');
    const resolved = await resolveSource({ kind: 'url', url: folder }, ctx);
    expect(resolved.baseUrl).toBe(`${folder}fp32/`);
    expect(outside).toEqual([]);
  });
});

describe('ModelStore: manifest paths and redirects (issue 13)', () => {
  let target: Server;
  let redirector: Server;
  let from = '';
  let to = '';
  const tiny = (path: string): Buffer | null => {
    try {
      return readFileSync(join(TINY_BUNDLE_DIR, decodeURIComponent(path)));
    } catch {
      return null;
    }
  };

  beforeAll(async () => {
    // The target serves the tiny bundle under any first segment.
    target = createServer((req, res) => {
      const body = tiny((req.url ?? '/').replace(/^\/[^/]+\//, ''));
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    to = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    // /files/: manifest.json here, every other file redirected to the target (another origin: another port).
    // /all/: manifest.json redirected too. /dot/: a manifest naming "./unet.onnx".
    redirector = createServer((req, res) => {
      const url = req.url ?? '/';
      const [, mount = '', ...rest] = url.split('/');
      const path = rest.join('/');
      if (mount === 'dot' && path === 'manifest.json') {
        const m = JSON.parse(tinyManifest) as { stages: { unet: { file: string } } };
        m.stages.unet.file = './unet.onnx';
        res.writeHead(200).end(JSON.stringify(m));
      } else if (mount === 'files' && path === 'manifest.json') {
        res.writeHead(200).end(tinyManifest);
      } else if (mount === 'cdn' && !path.endsWith('.onnx')) {
        // /cdn/: as Hugging Face's resolve/ URLs, only the large (hashed) files go to another origin.
        const body = tiny(path);
        if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
        else res.writeHead(404).end();
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

  const makeStore = () => new ModelStore({
    store: new MemoryFileStore(), fetch, gpu: async () => noF16, estimate: async () => ({ usage: 0, quota: 10e9 }),
    persist: async () => true, persisted: async () => true, baseHref: from,
  });

  it('a stage file redirected to another origin: CROSS_ORIGIN_REDIRECT, and the bundle is not ready', async () => {
    const store = makeStore();
    const e = err(await store.add({ kind: 'url', url: `${from}/files/` }));
    expect(e.code).toBe(ErrorCode.CrossOriginRedirect);
    expect(e.message).toContain(`redirected to another origin (${to})`);
    const listed = await store.list();
    expect(listed.ok && listed.value.map((b) => [b.status, b.lastError?.code])).toEqual([['incomplete', 'CROSS_ORIGIN_REDIRECT']]);
  });

  it('stage files pinned by SHA-256 may come from a CDN after a redirect: verified, ready, and the origin is reported', async () => {
    const store = makeStore();
    const messages: string[] = [];
    const added = await store.add({ kind: 'url', url: `${from}/cdn/` }, (p) => { messages.push(p.message); });
    expect(added.ok && added.value.status).toBe('ready');
    expect(messages.at(-1)).toContain(`served from ${to} after a redirect; each matched its SHA-256`);
  });

  it('manifest.json redirected to another origin: CROSS_ORIGIN_REDIRECT before anything is stored', async () => {
    const store = makeStore();
    expect(err(await store.add({ kind: 'url', url: `${from}/all/` })).code).toBe(ErrorCode.CrossOriginRedirect);
    const listed = await store.list();
    expect(listed.ok && listed.value).toEqual([]);
  });

  it('a "./" segment in a manifest path is BAD_MANIFEST naming the field, not INTERNAL', async () => {
    const e = err(await makeStore().add({ kind: 'url', url: `${from}/dot/` }));
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('"stages.unet.file"');
  });
});
