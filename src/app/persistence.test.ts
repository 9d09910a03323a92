import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { TestEditor } from '../editor/test-editor.ts';
import { Autosave, Persistence, recordToStep, restoreSession, stepToRecord } from './persistence.ts';
import { createAppStore, setParams } from './store.ts';

let dbCount = 0;
const freshName = (): string => `test-db-${++dbCount}`;

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
    const auto = new Autosave(p1, ed1, app1, (e) => { throw e; }, 5);
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
    expect(restoreSession(await p2.loadSession(), ed2, app2)).toBe(true);
    expect(ed2.doc.image.read({ x: 0, y: 0, width: 100, height: 100 }).data).toEqual(ed1.doc.image.read({ x: 0, y: 0, width: 100, height: 100 }).data);
    expect(ed2.getFrame()).toEqual({ x: 40, y: 50, width: 128, height: 128 });
    expect(ed2.state.tool).toBe('eraser');
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
    const auto = new Autosave(p, ed, app, (e) => { throw e; }, 5);
    auto.start();
    ed.fill(0, 0, 10, 10);
    await auto.flush();
    ed.undo();
    ed.fill(500, 500, 10, 10); // drops the redo step
    await auto.flush();
    const saved = await p.loadSession();
    expect(saved.steps.map((s) => s.name)).toEqual(['fill']);
    expect(saved.tiles.map((t) => t.key)).toEqual(['image/1,1']);
    auto.stop();
    p.close();
  });

  it('gallery items persist with their PNG bytes', async () => {
    const p = await Persistence.open(freshName());
    const params = {
      prompt: 'p', negativePrompt: '', style: 'none', mode: 'text2img', width: 64, height: 64, steps: 3, guidance: 4,
      priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 1, model: 'm', ep: 'wasm',
    };
    await p.putGalleryItem({ id: 'b', createdAt: 2, params, width: 64, height: 64, png: new Uint8Array([1, 2]) });
    await p.putGalleryItem({ id: 'a', createdAt: 1, params, width: 64, height: 64, png: new Uint8Array([3]) });
    const items = await p.loadGallery();
    expect(items.map((i) => i.id)).toEqual(['a', 'b']);
    expect([...(items[1]?.png ?? [])]).toEqual([1, 2]);
    await p.deleteGalleryItem('a');
    expect((await p.loadGallery()).length).toBe(1);
    p.close();
  });
});
