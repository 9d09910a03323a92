import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { openDB } from 'idb';
import { FAMILY_DEFAULTS, type BundleInfo, type CommonParams } from '../../workers/protocol.ts';
import type { StageName } from '../../workers/runtime/types.ts';
import { modesOf } from '../../workers/storage/modes.ts';
import { createAppStore } from '../app/store.ts';
import type { DecodeResult } from '../app/files.ts';
import { TestEditor } from '../editor/test-editor.ts';
import type { ImageParameters } from '../editor/parameters.ts';
import { IdbImageStore, MemoryImageStore, type ImageStore } from './image-store.ts';
import { INPUT_GC_GRACE_MS, ModesController } from './modes.ts';
import type { RunContext } from './request.ts';
import type { GalleryItem } from '../app/store.ts';

const ALL: StageName[] = ['text_encoder', 'image_encoder', 'prior', 'unet', 'unet_inpaint', 'movq_encoder', 'movq_decoder'];
const info = (stages: StageName[] = ALL): BundleInfo => ({
  name: 'tiny', description: '', family: 'kandinsky-2.2', defaults: FAMILY_DEFAULTS['kandinsky-2.2'], embeddingDim: 32, stages,
  modes: modesOf(stages), ep: 'wasm', shaderF16: false, warnings: [],
});
const COMMON: CommonParams = {
  width: 64, height: 64, steps: 3, guidance: 4, priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 5, numImages: 1, negativePrompt: '',
};

let dbCount = 0;
function setup(
  images: ImageStore = new MemoryImageStore(), stages: StageName[] = ALL, decodeFile?: (f: Blob) => Promise<DecodeResult>,
  app: { restored?: boolean; galleryLoaded?: boolean; gallery?: GalleryItem[] } = {},
) {
  const editor = new TestEditor({ longSide: 64 });
  const store = createAppStore({ model: { status: 'ready', info: info(stages) }, ...app });
  const modes = new ModesController({ editor, store }, images, {
    decodeFile: decodeFile ?? (async () => ({ ok: false, reason: 'not-image', message: 'unknown format' })),
    decodePng: async () => { throw new Error('not used'); },
  });
  const run = (): RunContext => {
    const frame = editor.getFrame();
    return { common: COMMON, prompt: 'a cat, styled', rawPrompt: 'a cat', info: info(stages), frame, image: editor.doc.image.read(frame), mask: null };
  };
  return { editor, store, modes, run };
}

describe('modes controller', () => {
  it('refuses an empty frame as an input, and builds the frame\'s own request in text2img mode', async () => {
    const { modes, run } = setup();
    expect(modes.requestFor(run())).toMatchObject({ ok: true, request: { mode: 'text2img', prompt: 'a cat, styled' }, params: { mode: 'text2img', prompt: 'a cat' } });
    modes.setMode('variations');
    expect(await modes.addFromFrame()).toBe(false);
    expect(modes.state.problem).toEqual({ key: 'errFrameEmpty' });
    expect(modes.state.single).toBeNull();
    expect(modes.requestFor(run())).toEqual({ ok: false, problem: { key: 'errNoImage' } });
    expect(modes.state.problem).toEqual({ key: 'errNoImage' });
  });

  it('takes the frame\'s pixels (opaque) as the variations image', async () => {
    const { editor, modes, run } = setup();
    editor.fill(0, 0, 64, 32, [10, 200, 30, 255]); // the lower half stays transparent: white for the model
    modes.setMode('variations');
    expect(await modes.addFromFrame()).toBe(true);
    const ref = modes.state.single!;
    expect(ref).toMatchObject({ width: 64, height: 64, source: 'frame' });
    const r = modes.requestFor(run());
    if (!r?.ok || r.request.mode !== 'variations') throw new Error('expected a variations request');
    expect(Array.from(r.request.image.data.slice(0, 4))).toEqual([10, 200, 30, 255]);
    expect(Array.from(r.request.image.data.slice(64 * 40 * 4, 64 * 40 * 4 + 4))).toEqual([255, 255, 255, 255]);
    expect(r.params).toEqual({ mode: 'variations', prompt: '', inputs: [{ kind: 'image', id: ref.id, weight: 1 }] });
  });

  it('a non-image file is refused by name and nothing changes', async () => {
    const { modes } = setup();
    modes.setMode('fusion');
    expect(await modes.addFromFile(new File(['hello'], 'notes.txt'))).toBe(false);
    expect(modes.state.problem).toEqual({ key: 'errNotImage', vars: { name: 'notes.txt' } });
    expect(modes.state.conditions).toEqual([]);
    expect(modes.state.busy).toBe(false);
  });

  it('a model without image_encoder refuses images for fusion but keeps texts', async () => {
    const { editor, modes, run } = setup(new MemoryImageStore(), ALL.filter((s) => s !== 'image_encoder'));
    editor.fill(0, 0, 64, 64);
    modes.setMode('fusion');
    expect(await modes.addFromFrame()).toBe(false);
    expect(modes.state.problem).toEqual({ key: 'noImageEncoder' });
    modes.addText('a cat');
    const r = modes.requestFor(run());
    expect(r?.ok).toBe(true);
  });

  it('inputs and the panel survive a reload, and a gallery result\'s inputs come back with identical pixels', async () => {
    const name = `modes-test-${++dbCount}`;
    const first = setup(await IdbImageStore.open(name), ALL, async () => {
      const data = new Uint8ClampedArray(96 * 64 * 4);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13) % 256;
      return { ok: true, raster: { width: 96, height: 64, data }, originalWidth: 96, originalHeight: 64, downscaled: false };
    });
    first.editor.fill(0, 0, 64, 64, [1, 2, 3, 255]);
    first.modes.setMode('fusion');
    await first.modes.addFromFrame();
    await first.modes.addFromFile(new File([new Uint8Array(4)], 'wide.png'));
    first.modes.addText('in the style of Van Gogh');
    first.modes.setWeight(0, 0.6);
    first.modes.setWeight(1, -0.2);
    first.modes.setWeight(2, 0.4);
    const r1 = first.modes.requestFor(first.run());
    if (!r1?.ok) throw new Error('expected a request');
    await first.modes.flush();

    // A new tab: the panel comes back from IndexedDB with its pixels.
    const second = setup(await IdbImageStore.open(name));
    await second.modes.start();
    expect(second.modes.state.mode).toBe('fusion');
    expect(second.modes.state.conditions.map((c) => c.weight)).toEqual([0.6, -0.2, 0.4]);
    const r2 = second.modes.requestFor(second.run());
    if (!r2?.ok) throw new Error('expected a request after reload');
    expect(r2.request).toEqual(r1.request);

    // Re-run from a result's parameters after the panel changed: the same request again.
    second.modes.setMode('text2img');
    second.modes.remove(0);
    const recorded: ImageParameters = {
      negativePrompt: '', style: 'none', width: 64, height: 64, steps: 3, guidance: 4, priorSteps: 2, priorGuidance: 4,
      scheduler: 'ddpm', seed: 5, model: 'tiny', ep: 'wasm', ...r1.params,
    };
    const third = setup(await IdbImageStore.open(name));
    await third.modes.restore(recorded);
    const r3 = third.modes.requestFor(third.run());
    if (!r3?.ok) throw new Error('expected a request after restore');
    expect(r3.request).toEqual(r1.request);
    expect(third.modes.state.problem).toBeNull();
  });

  it('restoring a result whose image is gone says so and keeps the rest', async () => {
    const { modes } = setup();
    await modes.restore({
      prompt: '', negativePrompt: '', style: 'none', mode: 'fusion', width: 64, height: 64, steps: 3, guidance: 4, priorSteps: 2, priorGuidance: 4,
      scheduler: 'ddpm', seed: 5, model: 'tiny', ep: 'wasm',
      inputs: [{ kind: 'image', id: `sha256-${'c'.repeat(64)}`, weight: 0.5 }, { kind: 'text', prompt: 'a boat', weight: 0.5 }],
    });
    expect(modes.state.mode).toBe('fusion');
    expect(modes.state.conditions).toEqual([{ kind: 'text', key: 1, prompt: 'a boat', weight: 0.5 }]);
    expect(modes.state.problem).toEqual({ key: 'errImageMissing', vars: { id: 'cccccccccccc' } });
  });

  describe('unused input images are deleted from storage', () => {
    const pixels = (v: number): { width: number; height: number; data: Uint8ClampedArray } => ({ width: 2, height: 2, data: new Uint8ClampedArray(16).fill(v) });
    const id = (c: string): string => `sha256-${c.repeat(64)}`;
    const galleryItem = (ids: string[]): GalleryItem => ({
      id: `g-${ids.join('-')}`, createdAt: 0, width: 64, height: 64, png: new Uint8Array(0),
      params: {
        prompt: '', negativePrompt: '', style: 'none', mode: 'fusion', width: 64, height: 64, steps: 3, guidance: 4, priorSteps: 2,
        priorGuidance: 4, scheduler: 'ddpm', seed: 5, model: 'tiny', ep: 'wasm', inputs: ids.map((i) => ({ kind: 'image' as const, id: i, weight: 1 })),
      },
    });

    it('keeps what the gallery and the panel use and anything younger than the grace period', async () => {
      const name = `modes-gc-${++dbCount}`;
      const images = await IdbImageStore.open(name);
      for (const c of 'abcd') await images.put(id(c), pixels(c.charCodeAt(0)));
      const { modes } = setup(images, ALL, undefined, { restored: true, galleryLoaded: true, gallery: [galleryItem([id('a')])] });
      await modes.restore({ ...galleryItem([id('b')]).params }); // the panel now holds b
      expect(modes.state.conditions.map((c) => (c.kind === 'image' ? c.image.id : c.prompt))).toEqual([id('b')]);
      expect(await modes.collect(Date.now())).toEqual([]); // c and d are unused but young
      expect((await modes.collect(Date.now() + INPUT_GC_GRACE_MS + 1000)).sort()).toEqual([id('c'), id('d')]);
      expect(await images.get(id('a'))).not.toBeNull();
      expect(await images.get(id('b'))).not.toBeNull();
      expect(await images.get(id('c'))).toBeNull();
      expect(await images.get(id('d'))).toBeNull();
      images.close();
    });

    it('collects nothing while the gallery is unknown (storage failed to read it)', async () => {
      const images = new MemoryImageStore(() => 0);
      await images.put(id('e'), pixels(1));
      const { modes } = setup(images, ALL, undefined, { restored: true, galleryLoaded: false });
      await modes.start();
      expect(await modes.collect(Date.now())).toEqual([]);
      expect(await images.get(id('e'))).not.toBeNull();
    });

    it('start() collects once the app has read the gallery back', async () => {
      const images = new MemoryImageStore(() => Date.now() - 2 * INPUT_GC_GRACE_MS);
      await images.put(id('f'), pixels(1));
      await images.put(id('a'), pixels(2));
      const { modes, store } = setup(images, ALL, undefined, { gallery: [galleryItem([id('a')])] });
      await modes.start();
      await new Promise((r) => setTimeout(r, 10));
      expect(await images.get(id('f'))).not.toBeNull(); // the app has not restored yet
      store.setState({ restored: true, galleryLoaded: true });
      await vi.waitFor(async () => expect(await images.get(id('f'))).toBeNull());
      expect(await images.get(id('a'))).not.toBeNull();
    });

    it('a database from before the createdAt index is upgraded and its images can be collected', async () => {
      const name = `modes-gc-v1-${++dbCount}`;
      const v1 = await openDB(name, 1, { upgrade(d) { d.createObjectStore('images', { keyPath: 'id' }); d.createObjectStore('kv'); } });
      await v1.put('images', { id: id('9'), width: 2, height: 2, data: pixels(9).data, createdAt: 1000 });
      v1.close();
      const images = await IdbImageStore.open(name);
      expect(await images.get(id('9'))).not.toBeNull();
      expect(await images.prune(new Set(), 2000)).toEqual([id('9')]);
      expect(await images.get(id('9'))).toBeNull();
      images.close();
    });
  });
});
