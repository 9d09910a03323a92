/**
 * Kandinsky 2.1 end to end (issue 10), on wasm with the tiny random 2.1 bundle beside the built-in 2.2 one:
 * the model manager lists both with their family and switches between them; with 2.1 loaded, the panel takes
 * the 2.1 reference's defaults, and text-to-image (an English and a Russian prompt), eraser inpainting,
 * outpainting and an image + text fusion run through the UI; switching back to 2.2 still generates.
 * The weights are random, so pictures are noise: what is checked is that each run lands where it should,
 * that the prompt changes the picture (same seed, other prompt, other pixels; that the UNet itself reads the
 * XLM-R text is shown by the parity cases and workers/pipelines/decoder-k21.test.ts) and that pixels the run
 * must keep are kept.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext } from './support/browser.ts';
import { EditorPage, type Box } from './pages/editor-page.ts';
import { ModelsPage } from './pages/models-page.ts';
import { ModesPage } from './pages/modes-page.ts';
import { checkPasteBack } from './support/paste-back.ts';

const BUNDLE_DIR = resolve(import.meta.dirname, '../public/models/tiny-kandinsky-2-1');
/** Small runs: the point is the path through the app, not the picture. */
const RUN = { steps: 3, priorSteps: 2 } as const;
const FRAME: Box = { x: 0, y: 0, width: 128, height: 128 };

let browser: Browser;
beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });

/** Opaque pixels and distinct colours of an RGBA array (an image, not a flat fill or a hole). */
function stats(px: readonly number[]): { opaque: number; colours: number } {
  let opaque = 0;
  const colours = new Set<number>();
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] === 255) opaque++;
    colours.add(((px[i] ?? 0) << 16) | ((px[i + 1] ?? 0) << 8) | (px[i + 2] ?? 0));
  }
  return { opaque, colours: colours.size };
}

describe('Kandinsky 2.1 beside 2.2 on wasm', () => {
  let ed: EditorPage;
  let models: ModelsPage;
  let id21 = '';
  let id22 = '';
  let grow = 0;
  const shot = (n: string): Promise<void> => ed.screenshot(`k21-${n}.png`);
  const statusReady = (family: string): Promise<unknown> => ed.page.waitForFunction((f) => {
    const status = document.querySelector('[data-testid="model-status"]')?.textContent ?? '';
    const fam = document.querySelector('[data-testid="model-family"]')?.getAttribute('data-family');
    return status.includes('ready') && fam === f;
  }, family, { timeout: 180_000 });

  beforeAll(async () => {
    ed = await EditorPage.open(await newContext(browser), { ep: 'wasm' });
    await ed.waitForModel();
    models = new ModelsPage(ed.page);
    grow = await ed.page.evaluate(() => window.__kandinsky!.seamGrowPx);
  }, 300_000);
  afterAll(async () => { await ed?.page.context().close(); });

  test('the manager installs the 2.1 bundle beside 2.2, lists each family, and switches to 2.1 with its defaults', async () => {
    expect(await ed.byId('model-family').getAttribute('data-family')).toBe('kandinsky-2.2');
    // The app stores the built-in 2.2 bundle for offline use by itself at first start (ModelManager.startSource, in
    // the background), after which "Keep for offline use" has nothing left to do; then the 2.1 bundle from its
    // folder: both are kept. (Clicking the button raced that background copy: disabled once it was done.)
    await models.openManager();
    id22 = await models.itemIdBySource('', 'builtin', 120_000);
    await models.waitForItemStatus(id22, 'ready', 120_000);
    await expect.poll(() => ed.byId('model-builtin-button').isDisabled(), { timeout: 10_000 }).toBe(true);
    await models.importFolder(BUNDLE_DIR);
    id21 = await models.itemIdBySource('tiny-kandinsky-2-1', 'folder', 120_000);
    await models.waitForItemStatus(id21, 'ready', 120_000);
    const families = await ed.page.locator('[data-testid="model-list"] > li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-family')));
    expect(families).toContain('kandinsky-2.1');
    expect(families).toContain('kandinsky-2.2');
    expect(await models.item(id21).textContent()).toContain('Kandinsky 2.1');
    await shot('00-manager-both-families');
    await models.activate(id21);
    await models.closeManager();
    await statusReady('kandinsky-2.1');
    expect(await ed.byId('model-family').textContent()).toContain('2.1');
    // The 2.1 reference's defaults (KandinskyPipeline): DDIM, 100 steps, guidance 4.
    expect(await ed.byId('scheduler-select').inputValue()).toBe('ddim');
    expect(await ed.byId('steps-input').inputValue()).toBe('100');
    await shot('01-2-1-loaded');
  });

  test('text-to-image with an English and a Russian prompt: each lands in the frame, and the prompt changes the picture', async () => {
    expect(await ed.frame()).toEqual(FRAME);
    const pictures: number[][] = [];
    for (const prompt of ['a red circle on a blue background', 'красный круг на синем фоне']) {
      await ed.setParams({ prompt, negative: '', seed: 2024, ...RUN });
      await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('text2img');
      await ed.generateAndWait();
      await ed.byId('accept-result-button').click();
      const px = await ed.pixels(FRAME);
      expect(stats(px)).toMatchObject({ opaque: 128 * 128 });
      expect(stats(px).colours).toBeGreaterThan(50);
      pictures.push(px);
      await shot(`02-text2img-${prompt.startsWith('a ') ? 'en' : 'ru'}`);
      await ed.byId('undo-button').click(); // back to the empty frame: the next run is text-to-image again
    }
    // Same seed: only the text differs (CLIP text into the prior, XLM-R text into the UNet).
    expect(pictures[0]).not.toEqual(pictures[1]);
    // Leave one picture on the canvas for the next tests.
    await ed.byId('redo-button').click();
    expect(await ed.pixels(FRAME)).toEqual(pictures[1]);
  });

  test('erase a region and inpaint it with the 2.1 inpaint UNet: pixels outside the grown mask are unchanged', async () => {
    const area: Box = { x: 0, y: 0, width: 192, height: 128 };
    await ed.hardEraser(20);
    await ed.dragDoc({ x: 40, y: 64 }, { x: 88, y: 64 });
    await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('inpaint');
    const before = await ed.pixels(area);
    await ed.setParams({ prompt: 'жёлтый квадрат' });
    await ed.generateAndWait();
    await ed.byId('accept-result-button').click();
    const r = checkPasteBack(before, await ed.pixels(area), area, await ed.frame(), grow);
    expect(r.repaint).toBeGreaterThan(500);
    expect(r.changedOutside).toBe(0);
    expect(r.repaintNotOpaque).toBe(0);
    await shot('03-inpaint-accepted');
  });

  test('drag the frame half off the picture and outpaint: the old half is unchanged', async () => {
    const area: Box = { x: 0, y: 0, width: 192, height: 128 };
    await ed.tool('frame');
    await ed.dragDoc({ x: 64, y: 64 }, { x: 128, y: 64 });
    expect(await ed.frame()).toEqual({ x: 64, y: 0, width: 128, height: 128 });
    await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('inpaint');
    const before = await ed.pixels(area);
    await ed.generateAndWait();
    await ed.byId('accept-result-button').click();
    const after = await ed.pixels(area);
    const r = checkPasteBack(before, after, area, await ed.frame(), grow);
    expect(r.repaint).toBe(64 * 128);
    expect(r.changedOutside).toBe(0);
    for (let y = 0; y < 128; y++) {
      const row = (a: number[]) => a.slice((y * 192) * 4, (y * 192 + 128 - grow) * 4);
      expect(row(after)).toEqual(row(before));
    }
    await shot('04-outpaint-accepted');
    // Back to the first frame position for the fusion test.
    await ed.dragDoc({ x: 128, y: 64 }, { x: 64, y: 64 });
    expect(await ed.frame()).toEqual(FRAME);
  });

  test('image + text fusion on 2.1: the frame at 0.6 and a Russian text at 0.4', async () => {
    const mp = new ModesPage(ed);
    await mp.mode('fusion');
    await mp.addFromFrame();
    await mp.addText('в стиле Кандинского');
    await mp.setWeight(0, 0.6);
    await mp.setWeight(1, 0.4);
    const before = await mp.galleryCount();
    await ed.setParams({ seed: 5 });
    await ed.generateAndWait();
    expect(await mp.galleryCount()).toBe(before + 1);
    const { params } = await mp.galleryParameters(await mp.newestGalleryId());
    expect(params).toMatchObject({ mode: 'fusion', seed: 5 });
    expect(params.inputs?.[1]).toMatchObject({ kind: 'text', prompt: 'в стиле Кандинского', weight: 0.4 });
    await shot('05-fusion-staged');
    await ed.byId('discard-result-button').click();
    await mp.mode('text2img');
  });

  test('switch back to the built-in 2.2 bundle: its family and defaults return, and it generates', async () => {
    await models.activate(id22);
    await models.closeManager();
    await statusReady('kandinsky-2.2');
    expect(await ed.byId('scheduler-select').inputValue()).toBe('ddpm');
    await ed.tool('frame');
    await ed.dragDoc({ x: 64, y: 64 }, { x: 64 + 256, y: 64 });
    await ed.setParams({ prompt: 'a lighthouse', seed: 3, ...RUN });
    await ed.generateAndWait();
    await ed.byId('discard-result-button').click();
    await shot('06-back-to-2-2');
  });
});
