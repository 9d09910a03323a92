import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageParameters } from '../editor/parameters.ts';
import { TILE_SIZE } from '../editor/tiled-layer.ts';
import { TestEditor } from '../editor/test-editor.ts';
import { AppController } from './controller.ts';
import { EngineClient } from './engine-client.ts';
import { Autosave, classifyStorageError, Persistence, quarantineToJson, recordToStep, restoreSession, stepToRecord } from './persistence.ts';
import { createAppStore, setParams, type GalleryItem } from './store.ts';

let dbCount = 0;
const freshName = (): string => `test-db-${++dbCount}`;

/** Let IndexedDB (fake-indexeddb runs on setImmediate) work until `cond` holds; false if it never does. */
async function settle(cond: () => boolean | Promise<boolean>, rounds = 400): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (await cond()) return true;
    await new Promise((r) => setImmediate(r));
  }
  return cond();
}

const PARAMS = {
  prompt: 'p', negativePrompt: '', style: 'none', mode: 'text2img', width: 64, height: 64, steps: 3, guidance: 4,
  priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 1, model: 'm', ep: 'wasm',
} as const satisfies ImageParameters;

/** What the browser throws when the origin's quota is used up. */
const quotaError = (): DOMException => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('persistence', () => {
  it('step records round-trip', () => {
    const ed = new TestEditor();
    ed.fill(0, 0, 10, 10);
    ed.fill(300, 0, 10, 10);
    ed.doc.history.mark('x');
    const step = ed.doc.history.snapshot().undo[1];
    if (!step) throw new Error('no step');
    const back = recordToStep(stepToRecord(step));
    expect(back.id).toBe(step.id);
    expect(back.name).toBe('fill');
    expect([...back.tiles.keys()]).toEqual([...step.tiles.keys()]);
  });

  it('autosave writes the document, history and session; a new editor gets them all back', async () => {
    const name = freshName();
    const p1 = await Persistence.open(name);
    const ed1 = new TestEditor({ longSide: 128 });
    const app1 = createAppStore();
    const auto = new Autosave(p1, ed1, app1, { onOutcome: (o) => { if (!o.ok) throw o.error; }, delayMs: 5 });
    auto.start();
    ed1.fill(0, 0, 100, 100, [10, 20, 30, 255]);
    ed1.key('e');
    ed1.setBrush({ size: 10, hardness: 1 });
    ed1.drag({ x: 20, y: 20 }, { x: 80, y: 20 });
    ed1.setFrame({ x: 40, y: 50, width: 128, height: 128 });
    setParams(app1, { prompt: 'кот', steps: 7 });
    app1.setState({ language: 'ru' });
    ed1.undo(); // erase sits on the redo stack now
    await auto.flush();
    auto.stop();
    p1.close();

    const p2 = await Persistence.open(name);
    const ed2 = new TestEditor();
    const app2 = createAppStore();
    const loaded = await p2.loadSession();
    expect(loaded.problems).toEqual([]);
    expect(restoreSession(loaded.session, ed2, app2)).toBe(true);
    expect(ed2.doc.image.read({ x: 0, y: 0, width: 100, height: 100 }).data).toEqual(ed1.doc.image.read({ x: 0, y: 0, width: 100, height: 100 }).data);
    expect(ed2.getFrame()).toEqual({ x: 40, y: 50, width: 128, height: 128 });
    expect(ed2.state.tool).toBe('eraser');
    expect(ed2.state.brush).toEqual({ size: 10, hardness: 1 });
    expect(app2.getState().params).toMatchObject({ prompt: 'кот', steps: 7 });
    expect(app2.getState().language).toBe('ru');
    expect(ed2.doc.history.undoNames()).toEqual(['fill']);
    expect(ed2.doc.history.redoNames()).toEqual(['erase']);
    ed2.redo();
    expect(ed2.alphaAt(50, 20)).toBe(0);
    ed2.undo();
    ed2.undo();
    expect(ed2.doc.image.contentBounds()).toBeNull();
    p2.close();
  });

  it('keeps dropped history steps and erased tiles out of the database', async () => {
    const name = freshName();
    const p = await Persistence.open(name);
    const ed = new TestEditor();
    const app = createAppStore();
    const auto = new Autosave(p, ed, app, { onOutcome: (o) => { if (!o.ok) throw o.error; }, delayMs: 5 });
    auto.start();
    ed.fill(0, 0, 10, 10);
    await auto.flush();
    ed.undo();
    ed.fill(500, 500, 10, 10); // drops the redo step
    await auto.flush();
    const saved = (await p.loadSession()).session;
    expect(saved?.steps.map((s) => s.name)).toEqual(['fill']);
    expect(saved?.tiles.map((t) => t.key)).toEqual(['image/1,1']);
    auto.stop();
    p.close();
  });

  it('gallery items persist with their PNG bytes, oldest first, through the autosave', async () => {
    const p = await Persistence.open(freshName());
    const auto = new Autosave(p, new TestEditor(), createAppStore(), { delayMs: 5 });
    auto.putGalleryItem({ id: 'b', createdAt: 2, params: PARAMS, width: 64, height: 64, png: new Uint8Array([1, 2]) });
    auto.putGalleryItem({ id: 'a', createdAt: 1, params: PARAMS, width: 64, height: 64, png: new Uint8Array([3]) });
    await auto.flush();
    const { items } = await p.loadGallery();
    expect(items.map((i) => i.id)).toEqual(['a', 'b']);
    expect([...(items[1]?.png ?? [])]).toEqual([1, 2]);
    auto.deleteGalleryItem('a');
    await auto.flush();
    expect((await p.loadGallery()).items.length).toBe(1);
    p.close();
  });

  it('names the real reason of a storage error, never an empty one', () => {
    expect(classifyStorageError(quotaError())).toEqual({ reason: 'quota', detail: 'QuotaExceededError: The quota has been exceeded.' });
    expect(classifyStorageError(new DOMException('', 'QuotaExceededError')).reason).toBe('quota');
    expect(classifyStorageError(new DOMException('The operation is insecure.', 'SecurityError')).reason).toBe('blocked');
    expect(classifyStorageError(new DOMException('', 'UnknownError'))).toEqual({ reason: 'failed', detail: 'UnknownError' });
    expect(classifyStorageError(undefined).detail).toBe('unknown error');
  });
});

// ---- the app's autosave end to end in Node: a real controller, real IndexedDB (fake-indexeddb) ----------------

/** start() sets the page language; Node has no document. */
(globalThis as { document?: unknown }).document ??= { documentElement: { lang: 'en' } };

/** A controller on its own database, without a model (its worker is never started in these tests). */
async function startApp(dbName: string): Promise<AppController> {
  const c = new AppController({ dbName, autoload: false, smallFrames: true }, new EngineClient(() => { throw new Error('no worker in unit tests'); }));
  await c.start();
  return c;
}

/** Put a result into the staging strip as generate() does: the whole frame, one colour. */
function stage(c: AppController, rgba: readonly [number, number, number, number]): void {
  const rect = c.editor.getFrame();
  const data = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(rgba, i);
  const composite = { width: rect.width, height: rect.height, data };
  c.editor.setLocked(true);
  c.store.setState({ staging: { rect, index: 0, results: [{ image: composite, composite, params: { ...PARAMS, width: rect.width, height: rect.height }, galleryId: 'g' }] } });
}

/** What a fresh controller finds in the database: the frame's first pixel and the undo names. */
async function reopen(dbName: string): Promise<{ pixel: number[]; undo: string[]; gallery: string[]; app: AppController }> {
  const app = await startApp(dbName);
  const f = app.editor.getFrame();
  return {
    pixel: [...app.editor.doc.image.read({ x: f.x, y: f.y, width: 1, height: 1 }).data],
    undo: app.editor.doc.history.undoNames(),
    gallery: app.store.getState().gallery.map((g) => g.id),
    app,
  };
}

const storageNotices = (c: AppController): string[] => c.store.getState().notices.filter((n) => n.slot === 'storage').map((n) => n.key);

describe('autosave that cannot lose work (issue 13: cases 3, 4, 5)', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); });
  afterEach(() => { vi.restoreAllMocks(); vi.useRealTimers(); });

  it('accept writes at once, without waiting for the quiet period (a kill right after Accept keeps the result)', async () => {
    const name = freshName();
    const c = await startApp(name);
    stage(c, [200, 10, 10, 255]);
    c.runs.accept();
    // No timer is advanced: only a write started by Accept itself can reach the database.
    const p = await Persistence.open(name);
    expect(await settle(async () => ((await p.loadSession()).session?.tiles.length ?? 0) > 0)).toBe(true);
    p.close();
    const back = await reopen(name);
    expect(back.pixel).toEqual([200, 10, 10, 255]);
    expect(back.undo).toEqual(['generate']);
  });

  it('a failed write keeps the accepted result and its undo step; the retry saves them; one notice, cleared on success', async () => {
    const name = freshName();
    const c = await startApp(name);
    const save = vi.spyOn(Persistence.prototype, 'saveSession');
    save.mockRejectedValueOnce(quotaError()).mockRejectedValueOnce(quotaError());
    stage(c, [10, 200, 10, 255]);
    c.runs.accept();
    expect(await settle(() => save.mock.calls.length >= 1)).toBe(true);
    await c.storage.flush(); // a second failure (the page is hidden, say): still one notice
    expect(save).toHaveBeenCalledTimes(2);
    expect(storageNotices(c)).toEqual(['storageQuota']);
    expect(c.t('storageQuota', c.store.getState().notices.find((n) => n.slot === 'storage')?.vars)).toMatch(/QuotaExceededError.*kept in memory.*saved when space is free/);
    // Storage is free again; the backoff retry (1 s, then 2 s) writes what the failed writes held.
    await vi.advanceTimersByTimeAsync(2000);
    expect(await settle(() => storageNotices(c).length === 0)).toBe(true);
    expect(save).toHaveBeenCalledTimes(3);
    const back = await reopen(name);
    expect(back.pixel).toEqual([10, 200, 10, 255]);
    expect(back.undo).toEqual(['generate']);
    back.app.editor.undo();
    expect(back.app.editor.doc.image.contentBounds()).toBeNull();
  });

  it('an edit after a failed write does not make the failed one\'s changes disappear', async () => {
    const name = freshName();
    const c = await startApp(name);
    vi.spyOn(Persistence.prototype, 'saveSession').mockRejectedValueOnce(quotaError());
    stage(c, [10, 10, 200, 255]);
    c.runs.accept();
    await c.storage.flush();
    // Space freed; the user moves the frame and reloads (the page-hide flush writes).
    c.editor.setFrame({ ...c.editor.getFrame(), x: 300 });
    await c.storage.flush();
    const back = await reopen(name);
    expect(back.app.editor.getFrame().x).toBe(300);
    expect([...back.app.editor.doc.image.read({ x: 0, y: 0, width: 1, height: 1 }).data]).toEqual([10, 10, 200, 255]);
    expect(back.undo).toEqual(['generate']);
  });

  it('a failed gallery write is retried', async () => {
    const name = freshName();
    const c = await startApp(name);
    const save = vi.spyOn(Persistence.prototype, 'saveSession').mockRejectedValueOnce(quotaError());
    const item: GalleryItem = { id: 'g-1', createdAt: 1, params: PARAMS, width: 64, height: 64, png: new Uint8Array([137, 80, 78, 71]) };
    c.store.setState({ gallery: [item] });
    // New results go to the autosave (as Runs.generate does through the gallery) and flushes at the end of the run.
    c.storage.putGalleryItem(item);
    await c.storage.flush();
    expect(storageNotices(c)).toEqual(['storageQuota']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await settle(() => save.mock.calls.length >= 2 && storageNotices(c).length === 0)).toBe(true);
    expect((await reopen(name)).gallery).toEqual(['g-1']);
  });

  it('a session record without history: pixels restored, record quarantined, autosave and gallery still work', async () => {
    const name = freshName();
    (await Persistence.open(name)).close();
    const tile = new Uint8ClampedArray(TILE_SIZE * TILE_SIZE * 4).fill(77);
    const db = await openDB(name, 1);
    await db.put('kv', { version: 1, frame: { x: 0, y: 0, width: 64, height: 64 }, aspect: '1:1', longSide: 64, tool: 'pan', params: 'garbage' }, 'session');
    await db.put('tiles', { key: 'image/0,0', data: tile });
    await db.put('tiles', { key: 'image/1,0', data: tile.subarray(0, 1000) }); // truncated
    await db.put('gallery', { id: 'old', createdAt: 1, params: PARAMS, width: 64, height: 64, png: new Uint8Array([1]) });
    db.close();

    const c = await startApp(name);
    expect(c.store.getState().galleryLoaded).toBe(true);
    expect(c.store.getState().gallery.map((g) => g.id)).toEqual(['old']);
    expect(c.editor.state.tool).toBe('pan');
    expect([...c.editor.doc.image.read({ x: 5, y: 5, width: 1, height: 1 }).data]).toEqual([77, 77, 77, 77]);
    const notice = c.store.getState().notices.find((n) => n.key === 'sessionDamaged');
    expect(notice?.action?.label).toBe('downloadDamaged');
    // The repaired session is written back whole, the original kept beside it.
    await c.storage.flush();
    const p = await Persistence.open(name);
    const [kept] = await p.loadQuarantine();
    expect(kept?.problems.join('\n')).toMatch(/history/);
    expect(kept?.problems.join('\n')).toMatch(/image\/1,0/);
    expect((kept?.meta as { params: unknown }).params).toBe('garbage');
    expect(kept?.tiles.length).toBe(2);
    const again = await p.loadSession();
    expect(again.problems).toEqual([]);
    p.close();
    // The download offered by the notice: the record as found, typed arrays as base64.
    const exported = JSON.parse(quarantineToJson(kept!)) as { meta: { params: unknown }; tiles: { key: string; data: { type: string; base64: string } }[] };
    expect(exported.meta.params).toBe('garbage');
    expect(exported.tiles.map((t) => [t.key, t.data.type, Buffer.from(t.data.base64, 'base64').length])).toEqual([
      ['image/0,0', 'Uint8ClampedArray', TILE_SIZE * TILE_SIZE * 4], ['image/1,0', 'Uint8ClampedArray', 1000],
    ]);
    // Autosave is on: an edit is saved and found after a reload, with the gallery.
    stage(c, [1, 2, 3, 255]);
    c.runs.accept();
    await c.storage.flush();
    const back = await reopen(name);
    expect(back.pixel).toEqual([1, 2, 3, 255]);
    expect(back.undo).toEqual(['generate']);
    expect(back.gallery).toEqual(['old']);
    expect(back.app.store.getState().notices.map((n) => n.key)).toEqual(['restored']);
  });

  it('an unreadable session setting does not stop the gallery from loading or the autosave from starting', async () => {
    const name = freshName();
    (await Persistence.open(name)).close();
    const db = await openDB(name, 1);
    await db.put('kv', 42 as never, 'session');
    await db.put('steps', { id: 'x', tiles: null } as never);
    await db.put('gallery', { id: 'ok', createdAt: 1, params: PARAMS, width: 64, height: 64, png: new Uint8Array([1]) });
    await db.put('gallery', { id: 'bad', createdAt: 2, params: null, width: 64, height: 64 } as never);
    db.close();
    const c = await startApp(name);
    expect(c.store.getState().gallery.map((g) => g.id)).toEqual(['ok']);
    expect(c.store.getState().notices.map((n) => n.key)).toEqual(['sessionDamaged', 'gallerySkipped']);
    stage(c, [9, 9, 9, 255]);
    c.runs.accept();
    await c.storage.flush();
    expect((await reopen(name)).pixel).toEqual([9, 9, 9, 255]);
  });
});
