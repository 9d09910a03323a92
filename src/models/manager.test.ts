import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUILTIN_MODEL } from '../../workers/builtin.ts';
import { TINY_BUNDLE_DIR } from '../../workers/testing/tiny-bundle.ts';
import { ModelStore } from '../../workers/storage/api.ts';
import { MemoryFileStore } from '../../workers/storage/files.ts';
import { BundleServer } from '../../workers/storage/testing/bundle-server.ts';
import { BUILTIN_ID, ModelManager } from './manager.ts';

let root: string;
let server: BundleServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'model-manager-'));
  // The built-in folder (whichever bundle workers/builtin.ts names) served with the tiny bundle's files.
  symlinkSync(TINY_BUNDLE_DIR, join(root, BUILTIN_MODEL.name));
  symlinkSync(TINY_BUNDLE_DIR, join(root, 'tiny'));
  server = await BundleServer.start(root);
});
afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A manager over a real ModelStore (memory storage); the server's "models" mount plays the app's public/models. */
function setup() {
  const files = new MemoryFileStore();
  const store = new ModelStore({
    store: files, fetch, builtinUrl: `${server.url}${BUILTIN_MODEL.path}`, baseHref: server.url,
    gpu: async () => ({ webgpu: false, shaderF16: false, adapter: '' }), estimate: async () => ({ usage: 0, quota: 1e10 }),
    persist: async () => true, persisted: async () => true,
  });
  const manager = new ModelManager(store, server.url);
  const reloads: string[] = [];
  manager.attach({ reload: async () => { reloads.push((await manager.startSource()).name); } });
  return { manager, reloads, files };
}

describe('ModelManager', () => {
  test('first start: the built-in URL, with a background copy; next start: the stored copy (works offline)', async () => {
    const { manager } = setup();
    const first = await manager.startSource();
    expect(first.source).toEqual({ kind: 'url', baseUrl: `${server.url}${BUILTIN_MODEL.path}` });
    await manager.settled();
    expect(manager.store.getState().bundles.map((b) => [b.id, b.source.kind, b.status])).toEqual([[BUILTIN_ID, 'builtin', 'ready']]);
    const second = await manager.startSource();
    expect(second.source.kind).toBe('files');
    expect(second.name).toBe('tiny-random-kandinsky-2-2');
  });

  test('download from a URL shows progress, then activate makes the editor load it', async () => {
    const { manager, reloads } = setup();
    manager.setUrl(`${server.url}dl/tiny/`);
    const seen: string[] = [];
    const unsub = manager.store.subscribe((s) => { if (s.progress) seen.push(s.progress.phase); });
    const added = await manager.addUrl();
    unsub();
    expect(added?.status).toBe('ready');
    expect(seen).toContain('transferring');
    expect(seen.at(-1)).toBe('ready');
    const s = manager.store.getState();
    expect(s.task).toBeNull();
    expect(s.notice).toMatchObject({ kind: 'info' });
    expect(s.bundles.map((b) => b.id)).toContain(added!.id);
    expect(s.usage?.bundleBytes).toBe(added!.storedBytes);

    await manager.activate(added!.id);
    expect(manager.store.getState().activeId).toBe(added!.id);
    expect(reloads).toEqual(['tiny-random-kandinsky-2-2']);
    expect((await manager.startSource()).source.kind).toBe('files');
  });

  test('deleting the active bundle frees its bytes and falls back to the built-in model', async () => {
    const { manager, reloads } = setup();
    const added = await manager.addUrl(`${server.url}del/tiny/`);
    await manager.activate(added!.id);
    await manager.remove(added!.id);
    const s = manager.store.getState();
    expect(s.activeId).toBeNull();
    expect(s.bundles).toEqual([]);
    expect(s.usage?.bundleBytes).toBe(0);
    expect(s.notice).toMatchObject({ kind: 'info' });
    expect(s.notice?.kind === 'info' && s.notice.text).toMatch(/freed/);
    expect(reloads).toHaveLength(2);
    await manager.settled();
  });

  test('a damaged URL bundle is listed with its reason; Re-download replaces it with a ready copy', async () => {
    const { manager, files } = setup();
    const added = await manager.addUrl(`${server.url}dmg/tiny/`);
    for (const n of ['state.json', 'state.json.tmp']) await files.writeText(`bundles/${added!.id}/${n}`, '{"version":1,"id":"x"');
    await manager.refresh();
    const [damaged] = manager.store.getState().bundles;
    expect(damaged).toMatchObject({ id: added!.id, status: 'damaged', source: { label: '' } });
    // Not JSON: nothing to salvage, so only Delete is offered. With a readable source, Re-download works:
    const rec = { version: 1, source: { kind: 'url', label: `${server.url}dmg/tiny/` }, files: 'oops' };
    await files.writeText(`bundles/${added!.id}/state.json`, JSON.stringify(rec));
    await manager.refresh();
    const [salvaged] = manager.store.getState().bundles;
    expect(salvaged).toMatchObject({ status: 'damaged', source: { kind: 'url', label: `${server.url}dmg/tiny/` } });
    expect(salvaged!.damage).toMatch(/"id" is not a non-empty string/);
    expect((await manager.redownload(salvaged!))?.status).toBe('ready');
    expect(manager.store.getState().bundles.map((b) => [b.id, b.status])).toEqual([[added!.id, 'ready']]);
  });

  test('errors land in the notice with their code; a second add while one runs is refused', async () => {
    const { manager } = setup();
    expect(await manager.addUrl(`${server.url}x/nothing/`)).toBeNull();
    expect(manager.store.getState().notice).toMatchObject({ kind: 'error', error: { code: 'MISSING_FILE' } });
    server.switches.chunkDelayMs = 1;
    try {
      const a = manager.addUrl(`${server.url}busy/tiny/`);
      expect(await manager.addUrl(`${server.url}busy2/tiny/`)).toBeNull();
      expect(manager.store.getState().notice).toMatchObject({ kind: 'error', error: { code: 'BAD_REQUEST' } });
      await until(() => manager.store.getState().progress?.phase === 'transferring');
      manager.cancel();
      await a;
    } finally {
      server.switches.chunkDelayMs = 0;
    }
    expect(manager.store.getState().notice).toMatchObject({ kind: 'error', error: { code: 'CANCELLED' } });
    const [incomplete] = manager.store.getState().bundles;
    expect(incomplete?.status).toBe('incomplete');
    expect((await manager.resume(incomplete!))?.status).toBe('ready');
    expect(await manager.addFolder([], 'empty')).toBeNull();
  });
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
