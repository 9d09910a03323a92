/**
 * The canvas editor end to end, on the real generation worker with the tiny bundle:
 * text-to-image, eraser inpainting, outpainting, undo/redo, reload, cancel, PNG parameters,
 * on WebGPU (SwiftShader) and on wasm. Every state leaves a screenshot in e2e/artifacts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { launchBrowser, newContext } from './support/browser.ts';
import { EditorPage, type Box } from './pages/editor-page.ts';
import { checkPasteBack } from './support/paste-back.ts';
import { readTextChunks } from '../src/editor/png.ts';
import { parseParameters } from '../src/editor/parameters.ts';

let browser: Browser;
beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });

/** Small, fast runs: the tiny model on SwiftShader is slow. */
const RUN = { steps: 3, priorSteps: 2 } as const;

for (const ep of ['webgpu', 'wasm'] as const) {
  describe(`canvas editor on ${ep}`, () => {
    let ed: EditorPage;
    const shot = (n: string): Promise<void> => ed.screenshot(`editor-${ep}-${n}.png`);
    let grow = 0;
    let afterInpaint: number[] = [];
    let beforeOutpaint: number[] = [];
    let afterOutpaint: number[] = [];
    const area: Box = { x: 0, y: 0, width: 192, height: 128 };

    beforeAll(async () => {
      ed = await EditorPage.open(await newContext(browser), { ep });
      const status = await ed.waitForModel();
      expect(status).toContain(ep);
      grow = await ed.page.evaluate(() => window.__kandinsky!.seamGrowPx);
    });
    afterAll(async () => { await ed?.page.context().close(); });

    test('text-to-image into a frame', async () => {
      expect(await ed.frame()).toEqual({ x: 0, y: 0, width: 128, height: 128 });
      await ed.setParams({ prompt: 'a lighthouse at dusk', negative: 'blurry', style: 'watercolour', seed: 1234, ...RUN });
      await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('text2img');
      await shot('00-empty');
      const empty = await ed.pixels(area);
      await ed.generateAndWait();
      await shot('01-text2img-staged');
      // Staged results do not touch the document until accepted.
      expect(await ed.pixels(area)).toEqual(empty);
      await expect.poll(() => ed.byId('used-seed').textContent()).toContain('1234');
      await ed.byId('accept-result-button').click();
      const px = await ed.pixels({ x: 0, y: 0, width: 128, height: 128 });
      let opaque = 0;
      const colours = new Set<number>();
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] === 255) opaque++;
        colours.add(((px[i] ?? 0) << 16) | ((px[i + 1] ?? 0) << 8) | (px[i + 2] ?? 0));
      }
      expect(opaque).toBe(128 * 128);
      expect(colours.size).toBeGreaterThan(50); // an image, not a flat fill
      expect(await ed.undoNames()).toEqual(['generate']);
      await expect.poll(() => ed.page.getByTestId('gallery-item').count()).toBe(1);
      await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('full');
      await shot('02-text2img-accepted');
    });

    test('erase a region and inpaint it: pixels outside the grown mask are unchanged', async () => {
      await ed.hardEraser(20);
      await ed.dragDoc({ x: 40, y: 64 }, { x: 88, y: 64 });
      await ed.dragDoc({ x: 64, y: 44 }, { x: 64, y: 84 });
      expect(await ed.undoNames()).toEqual(['generate', 'erase', 'erase']);
      await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('inpaint');
      await shot('03-erased');
      const before = await ed.pixels(area);
      await ed.generateAndWait();
      await shot('04-inpaint-staged');
      await ed.byId('accept-result-button').click();
      afterInpaint = await ed.pixels(area);
      const r = checkPasteBack(before, afterInpaint, area, await ed.frame(), grow);
      expect(r.repaint).toBeGreaterThan(1000);
      expect(r.keptChecked).toBeGreaterThan(10_000);
      expect(r.changedOutside).toBe(0);
      expect(r.repaintNotOpaque).toBe(0);
      expect(r.changedInSeam).toBeGreaterThan(0);
      expect((await ed.undoNames()).at(-1)).toBe('generate');
      await shot('05-inpaint-accepted');
    });

    test('drag the frame half off the image and outpaint: the old half is unchanged', async () => {
      await ed.tool('frame');
      await ed.dragDoc({ x: 64, y: 64 }, { x: 128, y: 64 });
      expect(await ed.frame()).toEqual({ x: 64, y: 0, width: 128, height: 128 });
      await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('inpaint');
      await shot('06-frame-half-off');
      beforeOutpaint = await ed.pixels(area);
      await ed.generateAndWait();
      await shot('07-outpaint-staged');
      await ed.byId('accept-result-button').click();
      afterOutpaint = await ed.pixels(area);
      const r = checkPasteBack(beforeOutpaint, afterOutpaint, area, await ed.frame(), grow);
      expect(r.repaint).toBe(64 * 128);
      expect(r.changedOutside).toBe(0);
      expect(r.repaintNotOpaque).toBe(0);
      // The old half beyond the seam, and everything left of the frame, is exactly as before.
      for (let y = 0; y < 128; y++) {
        const row = (x0: number, x1: number, a: number[]) => a.slice((y * 192 + x0) * 4, (y * 192 + x1) * 4);
        expect(row(0, 128 - grow, afterOutpaint)).toEqual(row(0, 128 - grow, beforeOutpaint));
      }
      await ed.byId('fit-button').click();
      await shot('08-outpaint-accepted');
    });

    test('undo and redo', async () => {
      await ed.byId('undo-button').click();
      expect(await ed.pixels(area)).toEqual(beforeOutpaint);
      await shot('09-undone');
      await ed.byId('undo-button').click();
      expect(await ed.pixels(area)).not.toEqual(afterInpaint);
      await ed.byId('redo-button').click();
      expect(await ed.pixels(area)).toEqual(afterInpaint);
      await ed.byId('redo-button').click();
      expect(await ed.pixels(area)).toEqual(afterOutpaint);
      await expect.poll(() => ed.byId('redo-button').isDisabled()).toBe(true);
      await shot('10-redone');
    });

    test('reload and find everything back', async () => {
      const frame = await ed.frame();
      const names = await ed.undoNames();
      await ed.flush();
      await ed.page.reload();
      await ed.waitForApp();
      await ed.notice('restored');
      expect(await ed.pixels(area)).toEqual(afterOutpaint);
      expect(await ed.frame()).toEqual(frame);
      expect(await ed.undoNames()).toEqual(names);
      expect(await ed.byId('prompt-input').inputValue()).toBe('a lighthouse at dusk');
      expect(await ed.byId('style-select').inputValue()).toBe('watercolour');
      expect(await ed.page.getByTestId('gallery-item').count()).toBe(3);
      await shot('11-reloaded');
      // History survived too: undo goes back to before the outpaint.
      await ed.byId('undo-button').click();
      expect(await ed.pixels(area)).toEqual(beforeOutpaint);
      await ed.byId('redo-button').click();
      expect(await ed.pixels(area)).toEqual(afterOutpaint);
      await ed.waitForModel();
    });

    test('cancel mid-run leaves the canvas untouched', async () => {
      await ed.tool('frame');
      await ed.dragDoc({ x: 128, y: 64 }, { x: 128, y: 160 }); // frame partly over the image, partly empty
      await ed.setParams({ steps: 40 });
      const box: Box = { x: 0, y: 0, width: 192, height: 256 };
      const before = await ed.pixels(box);
      const names = await ed.undoNames();
      await ed.byId('generate-button').click();
      await ed.page.waitForSelector('[data-testid="progress-stage"][data-stage="unet"]', { timeout: 120_000 });
      await shot('12-running');
      await ed.byId('cancel-button').click();
      await ed.notice('cancelled', 120_000);
      await expect.poll(() => ed.byId('progress').count()).toBe(0);
      expect(await ed.byId('accept-result-button').count()).toBe(0);
      expect(await ed.pixels(box)).toEqual(before);
      expect(await ed.undoNames()).toEqual(names);
      await shot('13-cancelled');
      await ed.setParams(RUN);
    });

    test('a live preview shows over the frame during the run; the staged result replaces it', async () => {
      // Previews are paced to ≤ 10 % of the loop's time: the first waits until ten steps have paid for it.
      await ed.setParams({ prompt: 'a lighthouse at dusk', seed: 1234, priorSteps: 2, steps: 12 });
      // On by default on WebGPU; on wasm (nothing slower there unless asked) the user turns it on.
      expect(await ed.setLivePreview(true)).toBe(ep === 'webgpu');
      const before = await ed.pixels({ x: 0, y: 0, width: 192, height: 256 });
      const seenBefore = await ed.page.evaluate(() => window.__kandinsky!.previews().count);
      await ed.byId('generate-button').click();
      await ed.page.waitForFunction((n) => window.__kandinsky!.previews().count > n, seenBefore, { timeout: 240_000, polling: 50 });
      // Over the frame while the run goes (a fast wasm run may have ended by now: then no screenshot).
      if (await ed.page.evaluate(() => window.__kandinsky!.runPreview() !== null)) await shot('13b-live-preview');
      await ed.byId('accept-result-button').waitFor({ state: 'visible', timeout: 240_000 });
      const preview = await ed.page.evaluate(() => window.__kandinsky!.previews().last);
      // The decoded estimate at the frame's size (the tiny model's MoVQ), an image rather than a fill.
      expect(preview?.width).toBeGreaterThanOrEqual(64);
      expect(preview?.colours).toBeGreaterThan(16);
      // Gone from the run state with the run.
      expect(await ed.page.evaluate(() => window.__kandinsky!.runPreview())).toBeNull();
      await ed.byId('discard-result-button').click();
      expect(await ed.pixels({ x: 0, y: 0, width: 192, height: 256 })).toEqual(before);
      await ed.setParams(RUN);
    });

    test('save a PNG and read its embedded parameters back', async () => {
      const d = await ed.download('save-png-button');
      const bytes = new Uint8Array(readFileSync((await d.path())!));
      const chunks = readTextChunks(bytes);
      const params = parseParameters(chunks.parameters ?? '');
      expect(params).toMatchObject({
        prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', style: 'watercolour', steps: 3, priorSteps: 2,
        seed: 1234, width: 128, height: 128, mode: 'inpaint', model: 'tiny-random-kandinsky-2-2', ep,
      });
      expect(JSON.parse(chunks.kandinsky ?? '{}')).toEqual(params);
      const f = await ed.download('save-frame-button');
      expect(readTextChunks(new Uint8Array(readFileSync((await f.path())!))).parameters).toBe(chunks.parameters);
      await shot('14-saved');
    });

    if (ep === 'webgpu') {
      test('the GPU device is lost mid-run: reported, canvas kept, the engine restarts on a new device and runs again', async () => {
        await ed.closeNotices();
        const worker = ed.page.workers().find((w) => w.url().includes('generator.worker'));
        expect(worker, 'the generation worker').toBeDefined();
        const closed = new Promise<boolean>((resolve) => worker!.once('close', () => resolve(true)));
        // A real loss in the middle of a GPU loop, no stand-in: the first command encoder of the loops' step kernel
        // (label "DenoiseStep", workers/gpu/step-kernel.ts; in the prior's loop, after its first bound run) destroys the GPUDevice.
        await worker!.evaluate(() => {
          const create = GPUDevice.prototype.createCommandEncoder;
          GPUDevice.prototype.createCommandEncoder = function (this: GPUDevice, ...args: Parameters<GPUDevice['createCommandEncoder']>) {
            if (args[0]?.label === 'DenoiseStep') {
              GPUDevice.prototype.createCommandEncoder = create;
              this.destroy();
            }
            return create.apply(this, args);
          };
        });
        const f = await ed.frame();
        const box: Box = { x: f.x - 32, y: f.y - 32, width: f.width + 64, height: f.height + 64 };
        const before = await ed.pixels(box);
        const names = await ed.undoNames();
        const galleryBefore = await ed.page.getByTestId('gallery-item').count();
        await ed.setParams({ seed: 4321 });
        await ed.byId('generate-button').click();
        expect(await ed.notice('errDeviceLost', 120_000)).toMatch(/GPU device was lost.*restarting/);
        expect(await ed.pixels(box)).toEqual(before);
        expect(await ed.undoNames()).toEqual(names);
        expect(await ed.page.getByTestId('gallery-item').count()).toBe(galleryBefore);
        expect(await ed.byId('accept-result-button').count()).toBe(0);
        await shot('17-device-lost');
        // The client started a new worker (so a new device) and reloaded the model on WebGPU.
        expect(await ed.waitForModel()).toContain('webgpu');
        expect(await closed).toBe(true);
        expect(ed.page.workers().filter((w) => w.url().includes('generator.worker')).length).toBeGreaterThan(0);
        await ed.generateAndWait();
        expect(await ed.page.getByTestId('gallery-item').count()).toBe(galleryBefore + 1);
        expect(await ed.byId('staging-strip').textContent()).toContain('seed 4321');
        await ed.byId('discard-result-button').click();
        expect(await ed.pixels(box)).toEqual(before);
        await ed.setParams(RUN);
      });
    }

    // Once is enough for the staging strip's cycling and the gallery's re-use: they do not depend on the EP.
    if (ep === 'wasm') {
      test('two results per run: cycle, discard, then re-use one from the gallery', async () => {
        await ed.tool('frame');
        await ed.byId('fit-button').click();
        for (let i = 0; i < 4; i++) await ed.page.getByTitle(/^Zoom out/).click();
        const f = await ed.frame();
        await ed.dragDoc({ x: f.x + 64, y: f.y + 64 }, { x: 100, y: 310 }); // over empty canvas
        expect(await ed.frame()).toEqual({ x: 36, y: 246, width: 128, height: 128 });
        await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('text2img');
        await ed.setParams({ prompt: 'two boats', seed: 77, numImages: 2 });
        const box: Box = { x: 0, y: 0, width: 600, height: 600 };
        const before = await ed.pixels(box);
        const galleryBefore = await ed.page.getByTestId('gallery-item').count();
        await ed.generateAndWait();
        await expect.poll(() => ed.byId('staging-strip').textContent()).toContain('Result 1 of 2');
        await ed.byId('next-result-button').click();
        await expect.poll(() => ed.byId('staging-strip').textContent()).toContain('Result 2 of 2 · seed 78');
        await shot('15-two-results');
        await ed.byId('discard-result-button').click();
        expect(await ed.pixels(box)).toEqual(before);
        expect(await ed.page.getByTestId('gallery-item').count()).toBe(galleryBefore + 2);
        // Re-use the very first result (text-to-image, seed 1234): its parameters come back in one click.
        await ed.setParams({ prompt: 'something else', steps: 9 });
        await ed.page.getByTestId('gallery-reuse').last().click();
        expect(await ed.byId('prompt-input').inputValue()).toBe('a lighthouse at dusk');
        expect(await ed.byId('seed-input').inputValue()).toBe('1234');
        expect(await ed.byId('steps-input').inputValue()).toBe('3');
        expect(await ed.byId('random-seed-checkbox').isChecked()).toBe(false);
        await shot('16-reused');
      });
    }
  });
}

describe('editor without generation', () => {
  let ed: EditorPage;
  beforeAll(async () => { ed = await EditorPage.open(await newContext(browser), { autoload: false }); });
  afterAll(async () => { await ed?.page.context().close(); });

  test('generating with no model loaded says so and changes nothing', async () => {
    await ed.setParams({ prompt: 'a cat' });
    await ed.byId('generate-button').click();
    expect(await ed.notice('errNoModel')).toMatch(/No model is loaded/);
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toBeNull();
    await ed.screenshot('editor-bad-no-model.png');
  });

  test('wheel zooms around the pointer (10%–2000%); space-drag and the pan tool move the view, not the frame', async () => {
    const frame = await ed.frame();
    const box = (await ed.byId('canvas').boundingBox())!;
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await ed.page.mouse.move(centre.x, centre.y);
    for (let i = 0; i < 30; i++) await ed.page.mouse.wheel(0, 400);
    await expect.poll(() => ed.byId('zoom-level').textContent()).toBe('10%');
    for (let i = 0; i < 40; i++) await ed.page.mouse.wheel(0, -400);
    await expect.poll(() => ed.byId('zoom-level').textContent()).toBe('2000%');
    await ed.byId('fit-button').click();
    const before = await ed.client({ x: 0, y: 0 });
    await ed.page.keyboard.down('Space');
    await ed.page.mouse.move(centre.x, centre.y);
    await ed.page.mouse.down();
    await ed.page.mouse.move(centre.x + 40, centre.y + 30, { steps: 5 });
    await ed.page.mouse.up();
    await ed.page.keyboard.up('Space');
    const after = await ed.client({ x: 0, y: 0 });
    expect(after.x - before.x).toBeCloseTo(40, 0);
    expect(after.y - before.y).toBeCloseTo(30, 0);
    await ed.page.keyboard.press('h');
    expect(await ed.byId('tool-pan').getAttribute('aria-pressed')).toBe('true');
    await ed.page.mouse.move(centre.x, centre.y);
    await ed.page.mouse.down();
    await ed.page.mouse.move(centre.x - 40, centre.y - 30, { steps: 5 });
    await ed.page.mouse.up();
    expect(await ed.client({ x: 0, y: 0 })).toEqual(before);
    expect(await ed.frame()).toEqual(frame);
    expect(await ed.byId('tool-pan').getAttribute('title')).toMatch(/\(H\)$/);
    await ed.page.keyboard.press('g');
    await ed.byId('fit-button').click();
  });

  test('touch: one finger erases; a second finger turns the stroke into a pinch (stroke reverted) that zooms about the fingers and pans', async () => {
    const { gradientPng } = await import('./support/png-fixtures.ts');
    await ed.openFile('touch.png', 'image/png', gradientPng(128, 128)); // centred on the 128×128 frame
    await expect.poll(() => ed.undoNames()).toEqual(['open image']);
    const f = await ed.frame();
    await ed.tool('eraser');
    const before = await ed.pixels(f);
    const z0 = await ed.zoom();
    const P = { x: f.x + 64, y: f.y + 64 };
    const C = await ed.client(P);
    const a0 = await ed.client({ x: f.x + 24, y: f.y + 64 });
    // One finger: an eraser stroke, applied as it goes.
    await ed.touch('touchStart', [a0]);
    const a1 = { x: a0.x + 12, y: a0.y };
    await ed.touch('touchMove', [a1]);
    expect(await ed.pixels(f)).not.toEqual(before);
    // A second finger, placed so that the two are centred on P: the stroke is reverted and a pinch starts.
    const mirror = (p: { x: number; y: number }, k: number) => ({ x: C.x + (p.x - C.x) * k, y: C.y + (p.y - C.y) * k });
    await ed.touch('touchStart', [a1, mirror(a1, -1)]);
    for (const k of [1.25, 1.5, 1.75, 2]) await ed.touch('touchMove', [mirror(a1, k), mirror(a1, -k)]);
    await ed.touch('touchEnd', []);
    expect(await ed.pixels(f)).toEqual(before);
    expect(await ed.undoNames()).toEqual(['open image']);
    expect((await ed.zoom()) / z0).toBeCloseTo(2, 1);
    const c1 = await ed.client(P);
    expect(Math.abs(c1.x - C.x)).toBeLessThan(1.5); // the point between the fingers stays under them
    expect(Math.abs(c1.y - C.y)).toBeLessThan(1.5);
    // Two fingers moving together pan.
    const pair = [{ x: C.x - 40, y: C.y }, { x: C.x + 40, y: C.y }];
    await ed.touch('touchStart', pair);
    for (let i = 1; i <= 4; i++) await ed.touch('touchMove', pair.map((p) => ({ x: p.x + 7.5 * i, y: p.y + 5 * i })));
    await ed.touch('touchEnd', []);
    const c2 = await ed.client(P);
    expect(c2.x - c1.x).toBeCloseTo(30, 0);
    expect(c2.y - c1.y).toBeCloseTo(20, 0);
    expect(await ed.frame()).toEqual(f);
    // One finger again: an undoable eraser stroke.
    const b0 = await ed.client({ x: f.x + 40, y: f.y + 40 });
    await ed.touch('touchStart', [b0]);
    for (let i = 1; i <= 4; i++) await ed.touch('touchMove', [{ x: b0.x + 10 * i, y: b0.y + 6 * i }]);
    await ed.touch('touchEnd', []);
    expect(await ed.undoNames()).toEqual(['open image', 'erase']);
    expect(await ed.pixels(f)).not.toEqual(before);
    await ed.screenshot('editor-touch.png');
    await ed.byId('undo-button').click();
    await ed.byId('undo-button').click();
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toBeNull();
    expect(await ed.undoNames()).toEqual([]);
    await ed.tool('frame');
    await ed.byId('fit-button').click();
  });

  test('opening a non-image, a corrupt PNG and a 10000×10000 PNG', async () => {
    await ed.closeNotices();
    await ed.openFile('notes.txt', 'text/plain', Buffer.from('this is not an image'));
    expect(await ed.notice('errNotImage')).toContain('notes.txt');
    const { gradientPng, hugeGreyPng } = await import('./support/png-fixtures.ts');
    const good = gradientPng(96, 64);
    await ed.openFile('broken.png', 'image/png', good.subarray(0, 60));
    expect(await ed.notice('errCorrupt')).toContain('broken.png');
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toBeNull();
    expect(await ed.undoNames()).toEqual([]);
    await ed.screenshot('editor-bad-files.png');
    await ed.openFile('huge.png', 'image/png', hugeGreyPng(10_000));
    expect(await ed.notice('imageDownscaled', 120_000)).toMatch(/10000×10000.*4096×4096/);
    const bounds = await ed.page.evaluate(() => window.__kandinsky!.contentBounds());
    expect(bounds).toMatchObject({ width: 4096, height: 4096 });
    await ed.screenshot('editor-huge-image.png');
    await ed.byId('undo-button').click();
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toBeNull();
  });

  test('an empty prompt over nothing is refused with a clear message', async () => {
    await ed.setParams({ prompt: '' });
    await ed.page.evaluate(() => document.querySelector<HTMLButtonElement>('[data-testid="load-model-button"]')?.click());
    await ed.waitForModel();
    await ed.byId('generate-button').click();
    expect(await ed.notice('errEmptyPrompt')).toMatch(/type a prompt/);
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toBeNull();
    expect(await ed.byId('progress').count()).toBe(0);
  });

  test('JPEG and WebP files (made by the browser\'s own encoders) open at their size with their colours', async () => {
    for (const type of ['image/jpeg', 'image/webp'] as const) {
      const names = await ed.undoNames();
      await ed.page.evaluate(async (type) => {
        const c = new OffscreenCanvas(80, 60);
        const g = c.getContext('2d')!;
        g.fillStyle = 'rgb(200, 40, 90)';
        g.fillRect(0, 0, 80, 60);
        const blob = await c.convertToBlob({ type, quality: 0.95 });
        const dt = new DataTransfer();
        dt.items.add(new File([blob], `photo.${type.split('/')[1]}`, { type }));
        const target = document.querySelector('.canvas-wrap')!;
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, type);
      expect(await ed.notice('imageOpened')).toContain('80×60');
      await expect.poll(() => ed.undoNames()).toEqual([...names, 'open image']);
      const b = (await ed.page.evaluate(() => window.__kandinsky!.contentBounds()))!;
      expect(b).toMatchObject({ width: 80, height: 60 });
      const px = await ed.pixels({ x: b.x + 40, y: b.y + 30, width: 1, height: 1 });
      // Lossy codecs: within a few levels of the colour drawn.
      expect(Math.abs(px[0]! - 200) + Math.abs(px[1]! - 40) + Math.abs(px[2]! - 90)).toBeLessThan(12);
      expect(px[3]).toBe(255);
      await ed.byId('undo-button').click();
      await ed.closeNotices();
    }
  });

  test('open by drop and by paste; switch the UI to Russian', async () => {
    const { gradientPng } = await import('./support/png-fixtures.ts');
    const b64 = gradientPng(64, 48).toString('base64');
    const transfer = async (kind: 'drop' | 'paste') => ed.page.evaluate(([b64, kind]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], `${kind}.png`, { type: 'image/png' }));
      if (kind === 'drop') {
        const target = document.querySelector('.canvas-wrap')!;
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      } else {
        window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }
    }, [b64, kind] as const);
    await transfer('drop');
    await ed.notice('imageOpened');
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toMatchObject({ width: 64, height: 48 });
    await transfer('paste');
    await expect.poll(() => ed.undoNames()).toEqual(['open image', 'open image']);
    await ed.byId('language-select').selectOption('ru');
    await expect.poll(() => ed.byId('generate-button').textContent()).toBe('Создать');
    expect(await ed.byId('model-status').textContent()).toContain('ready');
    await ed.screenshot('editor-russian.png');
    await ed.byId('language-select').selectOption('en');
  });

  test('mask brush marks pixels to repaint; a tab crash loses nothing', async () => {
    const { gradientPng } = await import('./support/png-fixtures.ts');
    await ed.openFile('big.png', 'image/png', gradientPng(256, 256)); // opens centred on the frame, covering it
    const f = await ed.frame();
    await ed.tool('mask');
    await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('full');
    await ed.dragDoc({ x: f.x + 40, y: f.y + 64 }, { x: f.x + 88, y: f.y + 64 });
    await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('inpaint');
    await ed.screenshot('editor-mask-brush.png');
    const bounds = await ed.page.evaluate(() => window.__kandinsky!.contentBounds());
    const names = await ed.undoNames();
    await ed.page.waitForTimeout(1500); // autosave runs shortly after each change; no explicit flush here
    await ed.page.goto('chrome://crash').catch(() => undefined);
    const again = await EditorPage.open(ed.page.context(), { autoload: false });
    expect(await again.page.evaluate(() => window.__kandinsky!.contentBounds())).toEqual(bounds);
    expect(await again.undoNames()).toEqual(names);
    await expect.poll(() => again.byId('frame-mode').getAttribute('data-mode')).toBe('inpaint');
    ed = again;
  });

  test('the worker crashing is recovered: restarted, model reloaded, canvas kept', async () => {
    await ed.byId('load-model-button').click();
    await ed.waitForModel();
    const before = await ed.page.evaluate(() => window.__kandinsky!.contentBounds());
    await ed.page.evaluate(() => window.__kandinsky!.crashWorker());
    expect(await ed.notice('errWorkerCrashed')).toMatch(/restarting/);
    await ed.waitForModel();
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toEqual(before);
  });
});

describe('a number field typed invalid', () => {
  let ed: EditorPage;
  beforeAll(async () => {
    ed = await EditorPage.open(await newContext(browser), { ep: 'wasm' });
    await ed.waitForModel();
  });
  afterAll(async () => { await ed?.page.context().close(); });

  test('steps 0 or an empty guidance: the field says what is wrong, Generate refuses with the message and no run starts', async () => {
    await ed.setParams({ prompt: 'a cat', seed: 1, ...RUN });
    const galleryBefore = await ed.byId('gallery-item').count();
    await ed.fill('steps-input', '0');
    expect(await ed.byId('steps-input-error').textContent()).toBe('Enter a whole number from 1 to 1000.');
    await ed.byId('generate-button').click();
    expect(await ed.notice('errInvalidField')).toContain('Not started: Steps is invalid. Enter a whole number from 1 to 1000.');
    // generate() starts a run synchronously when it does not refuse, so by now one would show.
    expect(await ed.byId('progress').count()).toBe(0);
    expect(await ed.byId('cancel-button').isDisabled()).toBe(true);
    expect(await ed.byId('steps-input').inputValue()).toBe('0'); // kept after the click's blur, still red
    await ed.closeNotices();
    await ed.fill('steps-input', '3');
    await ed.byId('steps-input-error').waitFor({ state: 'detached' });
    await ed.fill('guidance-input', '');
    await ed.page.keyboard.press('Control+Enter');
    expect(await ed.notice('errInvalidField')).toContain('Guidance is invalid. Enter a number from 0 to 100.');
    expect(await ed.byId('progress').count()).toBe(0);
    expect(await ed.byId('gallery-item').count()).toBe(galleryBefore);
    await ed.screenshot('editor-bad-invalid-field.png');
  });
});
