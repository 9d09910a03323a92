/**
 * Model manager and offline PWA, end to end: a production build served by `vite preview` (so the
 * service worker is real), and a local bundle server (CORS, Range, If-Range; switches to stall, cut,
 * corrupt and 404) serving a copy of the tiny bundle. Tests run in order in one browser context:
 * each builds on the storage the previous one left.
 */
import { appendFileSync, cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { TINY_BUNDLE_DIR } from '../workers/testing/tiny-bundle.ts';
import { BundleServer } from '../workers/storage/testing/bundle-server.ts';
import { ModelsPage } from './pages/models-page.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchBrowser, newContext } from './support/browser.ts';
import { baseUrl } from './support/base-url.ts';

const STAGE_ORDER = ['text_encoder.onnx', 'image_encoder.onnx', 'prior.onnx', 'unet.onnx', 'unet_inpaint.onnx', 'movq_encoder.onnx', 'movq_decoder.onnx'];
const UNET_BYTES = statSync(join(TINY_BUNDLE_DIR, 'unet.onnx')).size;
const CUT_AT = 1_000_000;
/** expect.poll options: generous, the machine may be busy. */
const POLL = { timeout: 30_000, interval: 100 } as const;

let work: string;
let bundleDir: string;
let server: BundleServer;
let app: PreviewServer;
let appUrl: string;
let outDir: string;
let browser: Browser;
let context: BrowserContext;
let ui: ModelsPage;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'models-e2e-'));
  // The served bundle and the "local folder" are a copy of the tiny bundle, named "tiny".
  bundleDir = join(work, 'bundles', 'tiny');
  cpSync(TINY_BUNDLE_DIR, bundleDir, { recursive: true });
  // A source with two variants (both copies of the tiny bundle), fp16 compute preferred.
  mkdirSync(join(work, 'bundles', 'multi'));
  for (const v of ['fp16', 'fp32']) symlinkSync(bundleDir, join(work, 'bundles', 'multi', v));
  writeFileSync(join(work, 'bundles', 'multi', 'variants.json'), JSON.stringify({
    format: 'kandinsky-onnx-variants', version: 1, name: 'tiny',
    variants: [
      { id: 'fp16', path: 'fp16/', label: 'fp16 compute', requires: ['webgpu', 'shader-f16'] },
      { id: 'fp32', path: 'fp32/', label: 'fp32 compute', requires: [] },
    ],
  }));
  server = await BundleServer.start(join(work, 'bundles'));

  // A production build with the service worker, served the way `npm run preview` serves it.
  const configFile = resolve('vite.config.ts');
  outDir = join(work, 'dist');
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  app = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  const port = (app.httpServer.address() as AddressInfo).port;
  appUrl = `http://localhost:${port}`; // localhost: a secure context (service worker, OPFS, WebGPU)

  browser = await launchBrowser();
  context = await newContext(browser);
  ui = await ModelsPage.open(context, appUrl);
  await ui.waitForModel();
  // The first start copies the built-in bundle into storage in the background; let it finish.
  await ui.openManager();
  await ui.waitForItemStatus('builtin', 'ready');
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((r) => (app ? app.httpServer.close(() => r()) : r()));
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const gets = (path: string) => server.requestsFor(path);

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** A plain static host (no COOP/COEP headers), as GitHub Pages or a bucket would serve the build. */
async function serveStatic(root: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root) || !existsSync(file)) file = join(root, 'index.html');
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('model manager and offline use (production build + service worker)', () => {
  test('the production build is an installable PWA (manifest, icons, service worker)', async () => {
    // Installability is only judged in a profile on disk (Playwright's contexts are off the record).
    const profile = join(work, 'profile');
    const persistent = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
    try {
      const page = await persistent.newPage();
      await page.goto(`${appUrl}/?autoload=0`);
      await page.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 60_000 });
      const cdp = await persistent.newCDPSession(page);
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors') as { installabilityErrors: { errorId: string }[] };
      expect(installabilityErrors).toEqual([]);
      const manifest = await cdp.send('Page.getAppManifest') as { url: string; errors: unknown[] };
      expect(manifest.url).toMatch(/manifest\.webmanifest$/);
      expect(manifest.errors).toEqual([]);
    } finally {
      await persistent.close();
    }
  });

  test('storage full while writing: QUOTA_EXCEEDED naming the file; after space is freed the download resumes', async () => {
    // Shrink this origin's quota (Chromium DevTools protocol) to what it uses plus 4 MB. Chromium enforces it
    // on writes (navigator.storage.estimate() does not show it), so this exercises the write-time error.
    // It runs first: after deletions Chromium's usage figure lags, and the quota would be too generous.
    const cdp = await context.newCDPSession(ui.page);
    const used = await ui.page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: appUrl, quotaSize: used + 4_000_000 });
    let id: string;
    try {
      await ui.download(`${server.url}q/tiny/`);
      const e = await ui.error(60_000);
      expect(e.code).toBe('QUOTA_EXCEEDED');
      expect(e.text).toMatch(/Storage is full.*\.onnx.*Delete a model.*resumes/);
      id = await ui.itemIdBySource(`${server.url}q/tiny/`);
      await ui.waitForItemStatus(id, 'incomplete');
      await ui.screenshot('models-quota.png');
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: appUrl });
      await cdp.detach();
    }
    await ui.downloadAgain();
    await ui.waitForItemStatus(id, 'ready');
    // The stored prefix of the file that hit the quota was kept and resumed.
    const te = gets('q/tiny/text_encoder.onnx');
    expect(te).toHaveLength(2);
    expect(te[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    await ui.remove(id);
  });

  test('download with progress; the server stops mid-file; resume fetches only the missing bytes', async () => {
    server.switches.stall = { path: 'a/tiny/unet.onnx', after: CUT_AT };
    await ui.download(`${server.url}a/tiny/`);

    // Progress while the server holds unet.onnx after 1 MB: bytes/total, speed and ETA per file and overall.
    await ui.waitForFileBytes('unet.onnx', CUT_AT);
    const during = await ui.progress();
    expect(during.phase).toBe('transferring');
    expect(during.loaded).toBeGreaterThan(CUT_AT);
    expect(during.total).toBeGreaterThan(during.loaded);
    expect(during.text).toMatch(/MB of .*MB/);
    expect(during.text).toMatch(/MB\/s|KB\/s|B\/s/);
    await expect.poll(() => ui.byId('model-file-unet.onnx').getAttribute('data-status'), POLL).toBe('downloading');
    await ui.screenshot('models-download-progress.png');

    await server.stop();
    const cut = await ui.error();
    expect(cut.code).toBe('NETWORK_ERROR');
    expect(cut.text).toMatch(/unet\.onnx.*resume/i);
    const id = await ui.itemIdBySource(`${server.url}a/tiny/`);
    await ui.waitForItemStatus(id, 'incomplete');

    await server.listen();
    await ui.downloadAgain();
    await ui.waitForItemStatus(id, 'ready');
    await ui.waitForPhase('ready');
    expect(await ui.item(id).getAttribute('data-offline')).toBe('true');
    expect(await ui.item(id).textContent()).toMatch(/URL/);

    // The request log: unet.onnx resumed at the cut with Range + If-Range; nothing fetched twice.
    const unet = gets('a/tiny/unet.onnx');
    expect(unet).toHaveLength(2);
    expect(unet[0]).toMatchObject({ range: null, bytes: CUT_AT });
    expect(unet[1]).toMatchObject({ range: `bytes=${CUT_AT}-`, status: 206, bytes: UNET_BYTES - CUT_AT });
    expect(unet[1]!.ifRange).toMatch(/^"/);
    for (const f of STAGE_ORDER) {
      const served = gets(`a/tiny/${f}`).reduce((s, r) => s + r.bytes, 0);
      expect(served, f).toBe(statSync(join(bundleDir, f)).size);
    }
    for (const f of STAGE_ORDER.slice(0, STAGE_ORDER.indexOf('unet.onnx'))) expect(gets(`a/tiny/${f}`), f).toHaveLength(1);
    await ui.screenshot('models-downloaded.png');
  });

  test('one corrupted byte is an integrity error and the bundle is not ready; a 404 says what is missing', async () => {
    server.switches.corrupt = { path: 'b/tiny/movq_decoder.onnx', offset: 4242 };
    await ui.download(`${server.url}b/tiny/`);
    const e = await ui.error(60_000);
    expect(e.code).toBe('INTEGRITY_MISMATCH');
    expect(e.text).toContain('movq_decoder.onnx');
    const id = await ui.itemIdBySource(`${server.url}b/tiny/`);
    await ui.waitForItemStatus(id, 'incomplete');
    expect(await ui.byId(`model-activate-${id}`).count()).toBe(0);
    await ui.screenshot('models-integrity-error.png');

    // Fixed on the server: a retry fetches only the damaged file.
    server.switches.corrupt = null;
    server.log.length = 0;
    await ui.downloadAgain();
    await ui.waitForItemStatus(id, 'ready');
    expect(server.log.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual(['tiny/manifest.json', 'tiny/movq_decoder.onnx']);

    await ui.download(`${server.url}c/no-such-model/`);
    const missing = await ui.error();
    expect(missing.code).toBe('MISSING_FILE');
    expect(missing.text).toMatch(/manifest\.json/);

    server.switches.noCors = true;
    try {
      await ui.download(`${server.url}e/tiny/`);
      await expect.poll(async () => (await ui.error()).text, POLL).toMatch(/CORS/);
      expect((await ui.error()).code).toBe('NETWORK_ERROR');
    } finally {
      server.switches.noCors = false;
    }
    await ui.remove(id);
  });

  test('a source with variants: the one this GPU can run is downloaded, and the panel says which and why', async () => {
    const f16 = await ui.page.evaluate(async () => (await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' }))?.features.has('shader-f16') ?? false);
    server.log.length = 0;
    await ui.download(`${server.url}v/multi/`);
    const id = await ui.itemIdBySource(`${server.url}v/multi/`);
    await ui.waitForItemStatus(id, 'ready');
    const expected = f16 ? 'fp16' : 'fp32';
    const text = (await ui.byId(`model-variant-${id}`).textContent()) ?? '';
    expect(text).toContain(expected === 'fp16' ? 'fp16 compute' : 'fp32 compute');
    if (!f16) expect(text).toMatch(/fp16 needs shader-f16/);
    expect(gets(`v/multi/${expected}/unet.onnx`)).toHaveLength(1);
    expect(gets(`v/multi/${f16 ? 'fp32' : 'fp16'}/unet.onnx`)).toHaveLength(0);
    await ui.remove(id);
  });

  test('two tabs downloading the same bundle: the second waits and then finds it ready', async () => {
    const other = await ModelsPage.open(context, appUrl);
    server.switches.stall = { path: 'd/tiny/prior.onnx', after: 50_000 };
    server.log.length = 0;
    await ui.download(`${server.url}d/tiny/`);
    await expect.poll(() => server.stalled, POLL).toBe(true);
    await other.download(`${server.url}d/tiny/`);
    await other.waitForPhase('waiting');
    expect(await other.progress()).toMatchObject({ phase: 'waiting' });
    server.release();
    await ui.waitForPhase('ready');
    await other.waitForPhase('ready');
    for (const f of STAGE_ORDER) expect(gets(`d/tiny/${f}`), f).toHaveLength(1);
    await other.page.close();
    await ui.remove(await ui.itemIdBySource(`${server.url}d/tiny/`));
  });

  test('a local folder is copied into storage and verified', async () => {
    await ui.importFolder(bundleDir);
    const id = await ui.itemIdBySource('tiny', 'folder', 60_000);
    await ui.waitForItemStatus(id, 'ready');
    expect(await ui.item(id).textContent()).toMatch(/folder: tiny/);
    expect(await ui.notice()).toMatch(/stored and verified/);
    await ui.remove(id);
  });

  test('offline: the app reloads from the service worker and generates with the downloaded bundle', async () => {
    const id = await ui.itemIdBySource(`${server.url}a/tiny/`);
    await ui.activate(id);
    await expect.poll(() => ui.byId(`model-activate-${id}`).isDisabled(), POLL).toBe(true);
    await ui.closeManager();
    await ui.waitForModel();

    await context.setOffline(true);
    try {
      const before = server.log.length;
      await ui.page.reload();
      await ui.waitForServiceWorker();
      await ui.waitForModel();
      expect(await ui.page.evaluate(() => window.crossOriginIsolated)).toBe(true);
      await ui.openManager();
      await expect.poll(() => ui.byId(`model-activate-${id}`).textContent(), POLL).toMatch(/In use/);
      await ui.closeManager();
      await ui.generate('a lighthouse at night');
      await ui.screenshot('models-offline-generated.png');
      expect(server.log.length).toBe(before);
    } finally {
      await context.setOffline(false);
    }
  });

  test('deleting the bundle frees its space', async () => {
    const id = await ui.itemIdBySource(`${server.url}a/tiny/`);
    await ui.openManager();
    const before = await ui.bundleBytes();
    const size = Number(await ui.item(id).getAttribute('data-bytes'));
    expect(size).toBeGreaterThan(UNET_BYTES);
    await ui.remove(id);
    expect(await ui.notice()).toMatch(/freed/);
    await expect.poll(() => ui.bundleBytes(), POLL).toBe(before - size);
    // The editor falls back to the built-in model.
    await ui.waitForModel();
    await ui.screenshot('models-deleted.png');
  });

  test('a damaged state.json in storage: listed as damaged with the reason, Delete works, the built-in still loads', async () => {
    // What a torn write or a foreign tool leaves: a record that is not valid, next to stored bytes.
    await ui.page.evaluate(async () => {
      const store = await (await navigator.storage.getDirectory()).getDirectoryHandle('kandinsky-web-models', { create: true });
      const dir = await (await store.getDirectoryHandle('bundles', { create: true })).getDirectoryHandle('broken', { create: true });
      const write = async (d: FileSystemDirectoryHandle, name: string, data: string | Uint8Array<ArrayBuffer>) => {
        const w = await (await d.getFileHandle(name, { create: true })).createWritable();
        await w.write(data);
        await w.close();
      };
      await write(dir, 'state.json', '{"version":1,"id":"broken","files":[null]}');
      await write(await dir.getDirectoryHandle('files', { create: true }), 'unet.onnx', new Uint8Array(100_000));
    });
    await ui.page.reload();
    await ui.waitForModel();
    await ui.openManager();
    await ui.waitForItemStatus('broken', 'damaged');
    await ui.waitForItemStatus('builtin', 'ready');
    expect(await ui.byId('model-damage-broken').textContent()).toMatch(/damaged \(state\.json: "name" is not a string\)/);
    expect(Number(await ui.item('broken').getAttribute('data-bytes'))).toBeGreaterThan(100_000);
    await ui.screenshot('models-damaged.png');
    await ui.remove('broken');
    expect(await ui.notice()).toMatch(/Deleted broken: .*freed/);
    // The built-in copy is untouched and the editor still loads a model after a reload.
    await ui.waitForItemStatus('builtin', 'ready');
    await ui.page.reload();
    await ui.waitForModel();
  });

  test('a new deployment shows "new version — reload"; Reload activates it', async () => {
    // Deploy again: any change to sw.js is a new version for the browser.
    appendFileSync(join(outDir, 'sw.js'), `\n// redeployed ${Date.now()}\n`);
    await ui.page.evaluate(async () => { await (await navigator.serviceWorker.getRegistration())?.update(); });
    await ui.byId('pwa-update').waitFor({ timeout: 60_000 });
    await ui.screenshot('models-update-prompt.png');
    const before = await ui.page.evaluate(() => performance.timeOrigin);
    const reloaded = ui.page.waitForEvent('load', { timeout: 60_000 });
    await ui.byId('pwa-reload-button').click();
    await reloaded;
    expect(await ui.page.evaluate(() => performance.timeOrigin)).not.toBe(before);
    await ui.waitForServiceWorker();
    expect(await ui.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null)).toBeNull();
    expect(await ui.byId('pwa-update').count()).toBe(0);
    await ui.waitForModel();
  });

  test('on a static host without COOP/COEP headers the service worker makes the page isolated; CORS downloads still work', async () => {
    const host = await serveStatic(outDir);
    const ctx = await newContext(browser);
    try {
      const page = await ctx.newPage();
      const first = await page.goto(`http://localhost:${host.port}/?small=1&ep=wasm`);
      expect(first?.headers()['cross-origin-embedder-policy']).toBeUndefined();
      // The first visit installs the worker, which takes control and reloads the page once, now isolated.
      await page.waitForFunction(() => window.crossOriginIsolated, undefined, { timeout: 60_000, polling: 200 });
      const p = new ModelsPage(page);
      page.setDefaultTimeout(60_000);
      await p.waitForModel();
      server.log.length = 0;
      await p.download(`${server.url}s/tiny/`);
      const id = await p.itemIdBySource(`${server.url}s/tiny/`);
      await p.waitForItemStatus(id, 'ready');
      expect(server.log.filter((r) => r.method === 'GET')).toHaveLength(11); // manifest + 10 files
    } finally {
      await ctx.close();
      await new Promise<void>((r) => host.server.close(() => r()));
    }
  });
});

describe('storage back ends in the browser (dev server, main thread)', () => {
  type FilesModule = typeof import('../workers/storage/files.ts');

  test('OPFS through createWritable (no sync handles on the main thread) and Cache Storage keep, append and remove files', async () => {
    const page = await context.newPage();
    try {
      await page.goto(`${baseUrl()}/e2e/engine-harness.html`);
      const result = await page.evaluate(async (url) => {
        // Through Function: vitest rewrites import() in this file, and this code runs in the page.
        const load = new Function('u', 'return import(u)') as (u: string) => Promise<unknown>;
        const m = (await load(url)) as FilesModule;
        const text = async (b: Blob | null) => (b ? new TextDecoder().decode(await b.arrayBuffer()) : null);
        const opfs = await m.OpfsFileStore.open('e2e-files-check');
        if (!opfs) throw new Error('no OPFS');
        let sink = await opfs.open('a/b/file.bin', 0);
        await sink.write(new TextEncoder().encode('hello world'));
        await sink.close();
        sink = await opfs.open('a/b/file.bin', 5); // keep "hello", replace the rest
        await sink.write(new TextEncoder().encode(', there'));
        await sink.close();
        const opfsOut = { content: await text(await opfs.read('a/b/file.bin')), size: await opfs.size('a/b/file.bin'), list: await opfs.list('a') };
        await opfs.remove('a');
        const opfsGone = await opfs.size('a/b/file.bin');

        const cache = await m.CacheFileStore.open('e2e-files-check');
        if (!cache) throw new Error('no Cache Storage');
        const csink = await cache.open('x/y.bin', 0);
        await csink.write(new TextEncoder().encode('cached'));
        await csink.write(new TextEncoder().encode(' bytes'));
        await csink.close();
        let appendRefused = false;
        try { await cache.open('x/y.bin', 3); } catch { appendRefused = true; }
        const cacheOut = { content: await text(await cache.read('x/y.bin')), list: await cache.list('x'), appendRefused, canAppend: cache.canAppend };
        await cache.remove('x');
        return { opfsOut, opfsGone, cacheOut, cacheGone: await cache.size('x/y.bin'), syncHandles: 'createSyncAccessHandle' in FileSystemFileHandle.prototype };
      }, '/workers/storage/files.ts');
      expect(result.syncHandles).toBe(false); // so the createWritable path ran
      expect(result.opfsOut).toEqual({ content: 'hello, there', size: 12, list: ['b'] });
      expect(result.opfsGone).toBeNull();
      expect(result.cacheOut).toEqual({ content: 'cached bytes', list: ['y.bin'], appendRefused: true, canAppend: false });
      expect(result.cacheGone).toBeNull();
    } finally {
      await page.close();
    }
  });
});
