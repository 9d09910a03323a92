import { openAsBlob, readFileSync, readdirSync, statSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { TINY_BUNDLE_DIR } from '../testing/tiny-bundle.ts';
import type { Result } from '../protocol.ts';
import { ModelStore, type ModelStoreOptions } from './api.ts';
import { MemoryFileStore } from './files.ts';
import type { AddProgress, FolderFile, GpuFacts } from './protocol.ts';
import { BundleServer } from './testing/bundle-server.ts';

/** Server root: /tiny -> the tiny bundle, /multi -> variants.json + fp16/ and fp32/ folders, /bad* -> broken manifests. */
let root: string;
let server: BundleServer;
const manifest = JSON.parse(readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8')) as {
  stages: Record<string, { file: string; bytes: number }>;
};
const stageFiles = Object.values(manifest.stages).map((s) => s.file);
const totalStageBytes = Object.values(manifest.stages).reduce((s, x) => s + x.bytes, 0);

const noF16: GpuFacts = { webgpu: true, shaderF16: false, adapter: 'test' };
const f16: GpuFacts = { webgpu: true, shaderF16: true, adapter: 'test' };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'model-store-'));
  // The server drops the first path segment ("mount"), so every mount serves the same root.
  symlinkSync(TINY_BUNDLE_DIR, join(root, 'tiny'));
  mkdirSync(join(root, 'multi'));
  symlinkSync(TINY_BUNDLE_DIR, join(root, 'multi', 'fp16'));
  symlinkSync(TINY_BUNDLE_DIR, join(root, 'multi', 'fp32'));
  writeFileSync(join(root, 'multi', 'variants.json'), JSON.stringify({
    format: 'kandinsky-onnx-variants', version: 1, name: 'tiny',
    variants: [
      { id: 'fp16', path: 'fp16/', label: 'fp16 compute', requires: ['webgpu', 'shader-f16'] },
      { id: 'fp32', path: 'fp32/', label: 'fp32 compute', requires: [] },
    ],
  }));
  mkdirSync(join(root, 'notjson'));
  writeFileSync(join(root, 'notjson', 'manifest.json'), '<!doctype html><p>login</p>');
  // An unknown manifest version (2 is Kandinsky 2.1's since docs/kandinsky-2-1.md; 3 is the first unknown one).
  mkdirSync(join(root, 'v2'));
  writeFileSync(join(root, 'v2', 'manifest.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8')), version: 3 }));
  server = await BundleServer.start(root);
});
afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  server.log.length = 0;
  server.switches.stall = null;
  server.switches.corrupt = null;
  server.switches.missing.clear();
  server.switches.chunkDelayMs = 0;
});

/** Each test downloads through its own mount, so the request log tells its requests apart. */
const urlOf = (mount: string) => `${server.url}${mount}/tiny/`;

function makeStore(over: ModelStoreOptions = {}) {
  const files = new MemoryFileStore();
  const store = new ModelStore({
    store: files, fetch, gpu: async () => noF16, estimate: async () => ({ usage: 0, quota: 10e9 }),
    persist: async () => true, persisted: async () => true, baseHref: server.url, ...over,
  });
  return { store, files };
}

function ok<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function err<T>(r: Result<T>) {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}
/** GET requests for one file of the tiny bundle, under a mount. */
const gets = (mount: string, file: string) => server.requestsFor(`${mount}/tiny/${file}`);
/** Paths of every GET so far (below the mount). */
const getPaths = () => server.log.filter((r) => r.method === 'GET').map((r) => r.path);

describe('ModelStore: download from a URL', () => {
  test('downloads every file with progress, verifies, and opens as Blobs', async () => {
    const { store } = makeStore();
    const events: AddProgress[] = [];
    const bundle = ok(await store.add({ kind: 'url', url: urlOf('tiny') }, (p) => { events.push(p); }));
    expect(bundle).toMatchObject({ status: 'ready', name: 'tiny-random-kandinsky-2-2', source: { kind: 'url' }, variant: null });
    // 7 stages, prior_stats.json, tokenizer.json and (optional, present) tokenizer_config.json.
    expect(bundle).toMatchObject({ fileCount: 10, verifiedCount: 10 });
    expect(bundle.modes).toEqual({ text2img: true, img2img: true, inpaint: true, fusion: true, variations: true, imageFusion: true });
    expect(events.map((e) => e.phase).filter((p, i, a) => p !== a[i - 1])).toEqual(['resolving', 'checking', 'transferring', 'ready']);
    const last = events.at(-1)!;
    expect(last.loaded).toBe(last.total);
    expect(last.files.every((f) => f.status === 'verified')).toBe(true);
    expect(last.total).toBeGreaterThan(totalStageBytes);

    const opened = ok(await store.open(bundle.id));
    for (const f of stageFiles) expect(opened.source.files.get(f)).toBeInstanceOf(Blob);
    expect((opened.source.files.get('unet.onnx') as Blob).size).toBe(manifest.stages.unet!.bytes);
    expect(opened.source.files.has('manifest.json')).toBe(true);
    expect(opened.source.files.has('tokenizer/tokenizer.json')).toBe(true);
    expect(ok(await store.list()).map((b) => b.id)).toEqual([bundle.id]);
  });

  test('adding the same URL again re-reads only the manifest', async () => {
    const { store } = makeStore();
    ok(await store.add({ kind: 'url', url: urlOf('again') }));
    server.log.length = 0;
    const b = ok(await store.add({ kind: 'url', url: urlOf('again') }));
    expect(b.status).toBe('ready');
    expect(getPaths()).toEqual(['tiny/manifest.json']);
  });

  test('interrupted mid-file: incomplete, cannot be opened; resumed with Range, finished bytes never re-fetched', async () => {
    const { store } = makeStore();
    server.switches.stall = { path: 'cut/tiny/unet.onnx', after: 1_000_000 };
    const pending = store.add({ kind: 'url', url: urlOf('cut') });
    await until(() => gets('cut', 'unet.onnx')[0]?.bytes === 1_000_000);
    await server.stop();
    const e = err(await pending);
    expect(e.code).toBe('NETWORK_ERROR');
    expect(e.message).toMatch(/unet\.onnx.*resume/);
    const [listed] = ok(await store.list());
    expect(listed).toMatchObject({ status: 'incomplete', lastError: { code: 'NETWORK_ERROR' } });
    expect(listed!.verifiedCount).toBeLessThan(listed!.fileCount);
    expect(err(await store.open(listed!.id)).code).toBe('NO_MODEL');

    await server.listen();
    const done: AddProgress[] = [];
    ok(await store.add({ kind: 'url', url: urlOf('cut') }, (p) => { done.push(p); }));
    const unet = gets('cut', 'unet.onnx');
    expect(unet).toHaveLength(2);
    expect(unet[1]).toMatchObject({ range: 'bytes=1000000-', status: 206 });
    expect(unet[1]!.ifRange).toMatch(/^"/);
    expect(unet[0]!.bytes + unet[1]!.bytes).toBe(manifest.stages.unet!.bytes);
    for (const f of stageFiles) {
      const served = gets('cut', f).reduce((s, r) => s + r.bytes, 0);
      expect(served, f).toBe(statSync(join(TINY_BUNDLE_DIR, f)).size);
    }
    expect(done.at(-1)!.files.find((f) => f.path === 'unet.onnx')!.resumedFrom).toBe(1_000_000);
  });

  test('a corrupted byte: INTEGRITY_MISMATCH naming the file, never ready; a retry fetches only that file', async () => {
    const { store } = makeStore();
    server.switches.corrupt = { path: 'bad/tiny/movq_decoder.onnx', offset: 12_345 };
    const e = err(await store.add({ kind: 'url', url: urlOf('bad') }));
    expect(e).toMatchObject({ code: 'INTEGRITY_MISMATCH', file: 'movq_decoder.onnx' });
    expect(e.message).toMatch(/damaged/);
    expect(ok(await store.list())[0]!.status).toBe('incomplete');
    server.switches.corrupt = null;
    server.log.length = 0;
    ok(await store.add({ kind: 'url', url: urlOf('bad') }));
    expect(getPaths()).toEqual(['tiny/manifest.json', 'tiny/movq_decoder.onnx']);
  });

  test('a missing stage file (404) is MISSING_FILE naming the URL', async () => {
    const { store } = makeStore();
    server.switches.missing.add('gone/tiny/prior.onnx');
    const e = err(await store.add({ kind: 'url', url: urlOf('gone') }));
    expect(e.code).toBe('MISSING_FILE');
    expect(e.message).toMatch(/prior\.onnx.*404/);
  });

  test('bad sources: no manifest, not JSON, another version, not a URL, unreachable host', async () => {
    const { store } = makeStore();
    expect(err(await store.add({ kind: 'url', url: `${server.url}m/nothing-here/` }))).toMatchObject({ code: 'MISSING_FILE' });
    const notJson = err(await store.add({ kind: 'url', url: `${server.url}m/notjson/` }));
    expect(notJson.code).toBe('BAD_MANIFEST');
    expect(notJson.message).toMatch(/not valid JSON/);
    const v2 = err(await store.add({ kind: 'url', url: `${server.url}m/v2/manifest.json` }));
    expect(v2.code).toBe('BAD_MANIFEST');
    expect(v2.message).toMatch(/version/);
    expect(err(await store.add({ kind: 'url', url: 'ftp://example.org/x' })).code).toBe('BAD_REQUEST');
    expect(err(await store.add({ kind: 'url', url: '  ' })).code).toBe('BAD_REQUEST');
    const net = err(await store.add({ kind: 'url', url: 'http://127.0.0.1:9/model/' }));
    expect(net.code).toBe('NETWORK_ERROR');
    expect(net.message).toMatch(/CORS/);
    expect(ok(await store.list())).toEqual([]);
  });

  test('not enough space: QUOTA_EXCEEDED before any file is fetched', async () => {
    const { store } = makeStore({ estimate: async () => ({ usage: 990e6, quota: 1e9 }) });
    const e = err(await store.add({ kind: 'url', url: urlOf('full') }));
    expect(e.code).toBe('QUOTA_EXCEEDED');
    expect(e.message).toMatch(/needs .* more/);
    expect(getPaths()).toEqual(['tiny/manifest.json']);
  });

  test('cancel pauses (CANCELLED); the next add resumes', async () => {
    const { store } = makeStore();
    server.switches.chunkDelayMs = 2;
    let id = '';
    const pending = store.add({ kind: 'url', url: urlOf('pause') }, (p) => {
      id = p.bundleId;
      if (p.files.some((f) => f.path === 'text_encoder.onnx' && f.loaded > 500_000)) store.cancel(p.bundleId);
    });
    expect(err(await pending).code).toBe('CANCELLED');
    server.switches.chunkDelayMs = 0;
    ok(await store.add({ kind: 'url', url: urlOf('pause') }));
    const te = gets('pause', 'text_encoder.onnx');
    expect(te).toHaveLength(2);
    expect(te[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(ok(await store.list()).find((b) => b.id === id)?.status).toBe('ready');
  });

  test('two adds of one bundle at once: the second waits for the lock and finds it ready', async () => {
    const { store } = makeStore();
    server.switches.chunkDelayMs = 1;
    const second: AddProgress[] = [];
    const a = store.add({ kind: 'url', url: urlOf('twice') });
    await until(() => gets('twice', 'text_encoder.onnx').length > 0);
    const b = store.add({ kind: 'url', url: urlOf('twice') }, (p) => { second.push(p); });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ok(ra).status).toBe('ready');
    expect(ok(rb).status).toBe('ready');
    expect(second.some((p) => p.phase === 'waiting')).toBe(true);
    for (const f of stageFiles) expect(gets('twice', f), f).toHaveLength(1);
  });
});

describe('ModelStore: variants', () => {
  test('without shader-f16 the fp32 variant is chosen, and the reason says why', async () => {
    const { store } = makeStore({ gpu: async () => noF16 });
    const b = ok(await store.add({ kind: 'url', url: `${server.url}mv/multi/` }));
    expect(b.variant).toMatchObject({ id: 'fp32' });
    expect(b.variant!.reason).toMatch(/fp16 needs shader-f16/);
    expect(server.requestsFor('mv/multi/fp32/unet.onnx')).toHaveLength(1);
    expect(server.requestsFor('mv/multi/fp16/unet.onnx')).toHaveLength(0);
  });

  test('with shader-f16 the fp16 variant is chosen', async () => {
    const { store } = makeStore({ gpu: async () => f16 });
    const b = ok(await store.add({ kind: 'url', url: `${server.url}m2/multi/variants.json` }));
    expect(b.variant).toMatchObject({ id: 'fp16' });
    expect(b.variant!.options.map((o) => o.usable)).toEqual([true, true]);
  });
});

function folderFiles(dir: string, top: string): Promise<FolderFile[]> {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  return Promise.all(walk(dir).map(async (p) => ({ path: `${top}/${relative(dir, p)}`, file: await openAsBlob(p) })));
}

describe('ModelStore: local folder, delete, reconcile, active', () => {
  test('imports a picked folder (webkitRelativePath-style paths), copies and verifies it', async () => {
    const { store } = makeStore();
    const b = ok(await store.add({ kind: 'folder', label: 'tiny-kandinsky-2-2', files: await folderFiles(TINY_BUNDLE_DIR, 'tiny-kandinsky-2-2') }));
    expect(b).toMatchObject({ status: 'ready', source: { kind: 'folder', label: 'tiny-kandinsky-2-2' } });
    expect(server.log).toEqual([]);
    expect(b.storedBytes).toBeGreaterThan(totalStageBytes);
  });

  test('a folder without a needed file: MISSING_FILE naming it; without manifest.json: MISSING_FILE', async () => {
    const { store } = makeStore();
    const files = (await folderFiles(TINY_BUNDLE_DIR, 'x')).filter((f) => !f.path.endsWith('/unet.onnx'));
    expect(err(await store.add({ kind: 'folder', label: 'x', files }))).toMatchObject({ code: 'MISSING_FILE', file: 'unet.onnx' });
    const noManifest = (await folderFiles(TINY_BUNDLE_DIR, 'y')).filter((f) => !f.path.endsWith('manifest.json'));
    expect(err(await store.add({ kind: 'folder', label: 'y', files: noManifest })).message).toMatch(/no manifest\.json/);
  });

  test('a file lost from storage drops the bundle to incomplete; a new add fetches only that file', async () => {
    const { store, files } = makeStore();
    const b = ok(await store.add({ kind: 'url', url: urlOf('lost') }));
    await files.remove(`bundles/${b.id}/files/prior.onnx`);
    expect(ok(await store.list())[0]).toMatchObject({ status: 'incomplete', lastError: { code: 'MISSING_FILE' } });
    expect(err(await store.open(b.id)).code).toBe('NO_MODEL');
    server.log.length = 0;
    ok(await store.add({ kind: 'url', url: urlOf('lost') }));
    expect(getPaths()).toEqual(['tiny/manifest.json', 'tiny/prior.onnx']);
  });

  test('a changed manifest at the same URL: unchanged files verify without a download, dropped files are deleted', async () => {
    const dir = join(root, 'changing');
    mkdirSync(dir);
    for (const f of readdirSync(TINY_BUNDLE_DIR)) symlinkSync(join(TINY_BUNDLE_DIR, f), join(dir, f));
    rmSync(join(dir, 'manifest.json'));
    const full = JSON.parse(readFileSync(join(TINY_BUNDLE_DIR, 'manifest.json'), 'utf8')) as { stages: Record<string, unknown>; description: string };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(full));
    const { store, files } = makeStore();
    const url = `${server.url}chg/changing/`;
    const first = ok(await store.add({ kind: 'url', url }));
    expect(first.modes.inpaint).toBe(true);
    // The host re-exports without unet_inpaint (and a new description): a different manifest.
    delete full.stages.unet_inpaint;
    full.description = 'no inpainting';
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(full));
    server.log.length = 0;
    const second = ok(await store.add({ kind: 'url', url }));
    expect(second).toMatchObject({ id: first.id, status: 'ready', description: 'no inpainting' });
    expect(second.modes.inpaint).toBe(false);
    // Stage files were re-verified from storage; only the unhashed JSON files are fetched again.
    expect(getPaths().filter((p) => p.endsWith('.onnx'))).toEqual([]);
    expect(await files.size(`bundles/${first.id}/files/unet_inpaint.onnx`)).toBeNull();
  });

  test('delete frees the bundle\'s bytes and forgets it as active; two sources of one model get two ids', async () => {
    const { store } = makeStore();
    const a = ok(await store.add({ kind: 'url', url: urlOf('del-a') }));
    const b = ok(await store.add({ kind: 'url', url: urlOf('del-b') }));
    expect(a.id).not.toBe(b.id);
    ok(await store.setActive(a.id));
    expect(ok(await store.active())).toBe(a.id);
    const before = ok(await store.usage()).bundleBytes;
    const removed = ok(await store.remove(a.id));
    expect(removed.freedBytes).toBe(a.storedBytes);
    expect(removed.usage.bundleBytes).toBe(before - a.storedBytes);
    expect(ok(await store.active())).toBeNull();
    expect(ok(await store.list()).map((x) => x.id)).toEqual([b.id]);
    expect(err(await store.remove('nope')).code).toBe('BAD_REQUEST');
    expect(err(await store.setActive('nope')).code).toBe('NO_MODEL');
  });
});

describe('a damaged state.json is quarantined (issue 13)', () => {
  /** Damages one stored bundle's records in ways seen in the wild (a torn write, a foreign tool, an old build). */
  const damages: [string, (files: MemoryFileStore, id: string) => Promise<void>, RegExp][] = [
    ['not JSON', async (f, id) => {
      await f.writeText(`bundles/${id}/state.json`, '{"version":1,"id":');
      await f.writeText(`bundles/${id}/state.json.tmp`, '');
    }, /state\.json is not JSON/],
    ['a null file entry', async (f, id) => {
      const rec = JSON.parse((await f.readText(`bundles/${id}/state.json`))!);
      rec.files[0] = null;
      for (const n of ['state.json', 'state.json.tmp']) await f.writeText(`bundles/${id}/${n}`, JSON.stringify(rec));
    }, /"files\[0\]" is not an object/],
    ['a null source', async (f, id) => {
      const rec = JSON.parse((await f.readText(`bundles/${id}/state.json`))!);
      rec.source = null;
      for (const n of ['state.json', 'state.json.tmp']) await f.writeText(`bundles/${id}/${n}`, JSON.stringify(rec));
    }, /"source" is not an object/],
    ['no record at all', async (f, id) => {
      await f.remove(`bundles/${id}/state.json`);
      await f.remove(`bundles/${id}/state.json.tmp`);
    }, /state\.json is missing/],
  ];

  test('each listed as damaged with the reason; the others list, open, add and delete; each deletes', async () => {
    const { store, files } = makeStore();
    const good = ok(await store.add({ kind: 'url', url: urlOf('dmg-good') }));
    const broken: string[] = [];
    for (let i = 0; i < damages.length; i++) broken.push(ok(await store.add({ kind: 'url', url: urlOf(`dmg-${i}`) })).id);
    ok(await store.setActive(broken[0]!));
    for (const [i, [, damage]] of damages.entries()) await damage(files, broken[i]!);

    const listed = ok(await store.list());
    expect(listed.map((b) => b.id).sort()).toEqual([good.id, ...broken].sort());
    for (const [i, [what, , reason]] of damages.entries()) {
      const q = listed.find((b) => b.id === broken[i])!;
      expect(q, what).toMatchObject({ status: 'damaged', offline: false, stages: [] });
      expect(q.damage, what).toMatch(reason);
      expect(q.storedBytes, what).toBeGreaterThanOrEqual(totalStageBytes);
      // It cannot be opened or stay active.
      expect(err(await store.open(q.id)).code, what).toBe('INTEGRITY_MISMATCH');
    }
    expect(listed.find((b) => b.id === good.id)).toMatchObject({ status: 'ready', damage: null });
    expect(ok(await store.active())).toBeNull();
    ok(await store.open(good.id));
    const another = ok(await store.add({ kind: 'url', url: urlOf('dmg-another') }));
    expect(another.status).toBe('ready');
    expect(ok(await store.usage()).bundleBytes).toBeGreaterThanOrEqual((damages.length + 2) * totalStageBytes);

    for (const id of broken) {
      const q = listed.find((b) => b.id === id)!;
      expect(ok(await store.remove(id)).freedBytes).toBe(q.storedBytes);
      expect(await files.list(`bundles/${id}`)).toEqual([]);
    }
    expect(ok(await store.list()).map((b) => b.id).sort()).toEqual([good.id, another.id].sort());
  });

  test('a damaged built-in copy is replaced by adding the built-in bundle again (Re-download)', async () => {
    const { store, files } = makeStore({ builtinUrl: urlOf('dmg-builtin') });
    const b = ok(await store.add({ kind: 'builtin' }));
    await files.writeText(`bundles/${b.id}/state.json`, '[]');
    await files.writeText(`bundles/${b.id}/state.json.tmp`, '[]');
    const q = ok(await store.list())[0]!;
    expect(q).toMatchObject({ id: 'builtin', status: 'damaged', source: { kind: 'builtin' } });
    ok(await store.remove(q.id));
    expect(ok(await store.add({ kind: 'builtin' }))).toMatchObject({ id: 'builtin', status: 'ready' });
  });
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
