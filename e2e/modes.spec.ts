/**
 * The image modes end to end (issue 6), on the real generation worker with the tiny bundle on wasm:
 * variations, image fusion, image + text fusion and image-to-image through the mode panel; results
 * in staging, the gallery and the PNG parameters; a gallery result re-run to identical pixels after
 * a reload; bad inputs (no image, all weights zero, negative weights, a far-from-square image, a
 * bundle without image_encoder). Every state leaves a screenshot in e2e/artifacts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext } from './support/browser.ts';
import { gradientPng } from './support/png-fixtures.ts';
import { EditorPage, type Box } from './pages/editor-page.ts';
import { ModesPage } from './pages/modes-page.ts';
import { readTextChunks } from '../src/editor/png.ts';

let browser: Browser;
beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });

/** Small, fast runs: the machine is slow. */
const RUN = { steps: 3, priorSteps: 2 } as const;
const FRAME: Box = { x: 0, y: 0, width: 128, height: 128 };

/** The id the app must give an opaque image of at most 1024 px: SHA-256 of "RGBA8 WxH\n" and the pixels (computed here independently). */
function expectedId(width: number, height: number, rgba: number[]): string {
  return `sha256-${createHash('sha256').update(`RGBA8 ${width}x${height}\n`).update(Uint8Array.from(rgba)).digest('hex')}`;
}

describe('image modes on wasm', () => {
  let ed: EditorPage;
  let mp: ModesPage;
  const shot = (n: string): Promise<void> => mp.screenshot(`modes-${n}.png`);
  let text2imgGalleryId = '';
  let wideId = '';
  let fusionGalleryId = '';
  let fusionPixels: number[] = [];

  beforeAll(async () => {
    ed = await EditorPage.open(await newContext(browser), { ep: 'wasm' });
    mp = new ModesPage(ed);
    expect(await ed.waitForModel()).toContain('wasm');
  });
  afterAll(async () => { await ed?.page.context().close(); });

  test('no image chosen, an empty frame, nothing to fuse: clear messages, nothing runs', async () => {
    expect(await ed.frame()).toEqual(FRAME);
    await mp.mode('variations');
    await expect.poll(() => mp.byId('mode-status').getAttribute('data-mode')).toBe('variations');
    await ed.byId('generate-button').click();
    expect(await mp.error('errNoImage')).toMatch(/Choose an input image first/);
    await shot('00-no-image');
    await mp.byId('mode-image-from-frame').click();
    expect(await mp.error('errFrameEmpty')).toMatch(/frame is empty/);
    await mp.mode('fusion');
    await ed.byId('generate-button').click();
    expect(await mp.error('errNoConditions')).toMatch(/at least one image or text/);
    await mp.addFile('notes.txt', 'text/plain', Buffer.from('not an image'), false);
    expect(await mp.error('errNotImage')).toContain('notes.txt');
    expect(await ed.byId('progress').count()).toBe(0);
    expect(await mp.galleryCount()).toBe(0);
    expect(await ed.undoNames()).toEqual([]);
    expect(await ed.page.evaluate(() => window.__kandinsky!.contentBounds())).toBeNull();
  });

  test('text-to-image first, to have a picture in the frame and the gallery', async () => {
    await mp.mode('text2img');
    await expect.poll(() => ed.byId('frame-mode').getAttribute('data-mode')).toBe('text2img');
    expect(await mp.byId('mode-error').count()).toBe(0); // switching mode cleared the message
    await ed.setParams({ prompt: 'a red house by a lake', seed: 11, ...RUN });
    await ed.generateAndWait();
    await ed.byId('accept-result-button').click();
    text2imgGalleryId = await mp.newestGalleryId();
    await shot('01-text2img');
  });

  test('variations of the frame: two results in staging, the gallery and the PNG parameters', async () => {
    const before = await ed.pixels(FRAME);
    await mp.mode('variations');
    await mp.addFromFrame();
    const rows = await mp.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(expectedId(128, 128, before)); // content hash of exactly the frame's pixels
    expect(await mp.byId('mode-crop-warning-0').count()).toBe(0); // a square image: the encoder sees all of it
    await ed.setParams({ seed: 21, numImages: 2 });
    const gallery = await mp.galleryCount();
    await ed.generateAndWait();
    await expect.poll(() => ed.byId('staging-strip').textContent()).toContain('Result 1 of 2');
    expect(await ed.pixels(FRAME)).toEqual(before); // staged, not landed
    expect(await mp.galleryCount()).toBe(gallery + 2);
    await shot('02-variations-staged');
    const { params, json } = await mp.galleryParameters(await mp.newestGalleryId());
    expect(params).toMatchObject({ mode: 'variations', seed: 22, width: 128, height: 128, steps: 3, model: 'tiny-random-kandinsky-2-2', ep: 'wasm' });
    expect(params.inputs).toEqual([{ kind: 'image', id: rows[0]?.id, weight: 1 }]);
    expect(json).toEqual(params);
    expect(await ed.page.locator(`[data-testid="gallery-item"][data-id="${await mp.newestGalleryId()}"] [data-testid="gallery-label"]`).textContent())
      .toBe('Variations of an image');
    await ed.byId('accept-result-button').click();
    expect(await ed.pixels(FRAME)).not.toEqual(before);
    expect((await ed.undoNames()).at(-1)).toBe('generate');
    await ed.setParams({ numImages: 1 });
    await shot('03-variations-accepted');
  });

  test('image fusion: a file far from square (its crop shown first) and a gallery image, weighted', async () => {
    await mp.mode('fusion');
    expect((await mp.rows()).length).toBe(1); // the variations image came along
    await mp.remove(0);
    await mp.addFile('wide.png', 'image/png', gradientPng(256, 64));
    await mp.addFromGallery(text2imgGalleryId);
    const rows = await mp.rows();
    expect(rows.map((r) => [r.kind, r.weight])).toEqual([['image', 0.5], ['image', 0.5]]);
    wideId = rows[0]!.id!;
    expect(wideId).toMatch(/^sha256-[0-9a-f]{64}$/);
    // The encoder sees the centred 64×64 of the 256×64 image: shown, and flagged, before running.
    expect(await mp.byId('mode-crop-preview-0').getAttribute('data-crop')).toBe('96,0,64,64');
    expect(await mp.byId('mode-crop-warning-0').textContent()).toMatch(/25% of this 4:1 image/);
    expect(await mp.byId('mode-crop-preview-1').getAttribute('data-crop')).toBe('0,0,128,128');
    expect(await mp.byId('mode-crop-warning-1').count()).toBe(0);
    await shot('04-fusion-crop-preview');

    // All weights zero: refused, nothing lost.
    await mp.setWeight(0, 0);
    await mp.setWeight(1, 0);
    const gallery = await mp.galleryCount();
    const pixels = await ed.pixels(FRAME);
    await ed.byId('generate-button').click();
    expect(await mp.error('errAllWeightsZero')).toMatch(/All weights are zero/);
    expect(await ed.byId('progress').count()).toBe(0);
    expect(await mp.galleryCount()).toBe(gallery);
    expect(await ed.pixels(FRAME)).toEqual(pixels);
    expect((await mp.rows()).map((r) => r.id)).toEqual(rows.map((r) => r.id));
    await shot('05-fusion-weights-zero');

    await mp.setWeight(0, 0.7);
    await mp.setWeight(1, 0.3);
    expect(await mp.byId('mode-error').count()).toBe(0);
    await ed.setParams({ seed: 41 });
    await ed.generateAndWait();
    const id = await mp.newestGalleryId();
    const { params } = await mp.galleryParameters(id);
    expect(params).toMatchObject({ mode: 'fusion', seed: 41, prompt: '' });
    expect(params.inputs).toEqual([{ kind: 'image', id: wideId, weight: 0.7 }, { kind: 'image', id: rows[1]!.id, weight: 0.3 }]);
    await shot('06-fusion-staged');
    await ed.byId('accept-result-button').click();
    expect(await ed.pixels(FRAME)).not.toEqual(pixels);
  });

  test('a negative weight is allowed but flagged, in the panel and by the engine', async () => {
    await mp.setWeight(1, -0.3);
    expect(await mp.byId('mode-negative-1').textContent()).toMatch(/Negative weight/);
    expect(await mp.byId('mode-weight-value-1').textContent()).toBe('-0.30');
    await shot('07-fusion-negative-flagged');
    const gallery = await mp.galleryCount();
    await ed.generateAndWait();
    expect(await ed.notice('warnings')).toMatch(/negative weight/);
    expect(await mp.galleryCount()).toBe(gallery + 1);
    const { params } = await mp.galleryParameters(await mp.newestGalleryId());
    expect(params.inputs?.[1]).toMatchObject({ kind: 'image', weight: -0.3 });
    await ed.byId('discard-result-button').click();
  });

  test('image + text fusion: a photo at 0.6 and a style text at 0.4', async () => {
    await mp.remove(1);
    await mp.addText('');
    await ed.byId('generate-button').click();
    expect(await mp.error('errEmptyText')).toMatch(/Text 2 is empty/);
    await mp.byId('mode-text-1').fill('in the style of Van Gogh');
    await mp.setWeight(0, 0.6);
    await mp.setWeight(1, 0.4);
    expect(await mp.rows()).toEqual([{ kind: 'image', id: wideId, weight: 0.6 }, { kind: 'text', id: null, weight: 0.4 }]);
    await ed.setParams({ seed: 31 });
    await ed.generateAndWait();
    fusionGalleryId = await mp.newestGalleryId();
    const { params } = await mp.galleryParameters(fusionGalleryId);
    expect(params).toMatchObject({ mode: 'fusion', seed: 31 });
    expect(params.inputs).toEqual([{ kind: 'image', id: wideId, weight: 0.6 }, { kind: 'text', prompt: 'in the style of Van Gogh', weight: 0.4 }]);
    expect(await ed.page.locator(`[data-testid="gallery-item"][data-id="${fusionGalleryId}"] [data-testid="gallery-label"]`).textContent())
      .toBe('Fusion: image ×0.6 · "in the style of Van Gogh" ×0.4');
    await shot('08-image-text-fusion-staged');
    await ed.byId('accept-result-button').click();
    fusionPixels = await ed.pixels(FRAME);
  });

  test('image-to-image with a strength slider; a strength that re-runs no step is refused', async () => {
    await mp.mode('img2img');
    await mp.addFromFrame();
    expect((await mp.rows())[0]?.id).toBe(expectedId(128, 128, fusionPixels));
    await ed.setParams({ prompt: 'a castle on a hill', seed: 51 });
    await mp.setStrength(0.3); // 3 steps × 0.3 < 1
    await ed.byId('generate-button').click();
    expect(await mp.error('errStrengthTooLow')).toMatch(/raise the strength to 0\.34/);
    await mp.setStrength(0.5);
    await ed.generateAndWait();
    const { params } = await mp.galleryParameters(await mp.newestGalleryId());
    expect(params).toMatchObject({ mode: 'img2img', prompt: 'a castle on a hill', strength: 0.5, seed: 51 });
    expect(params.inputs).toEqual([{ kind: 'image', id: expectedId(128, 128, fusionPixels), weight: 1 }]);
    await shot('09-img2img-staged');
    await ed.byId('accept-result-button').click();
    expect(await ed.pixels(FRAME)).not.toEqual(fusionPixels);
    const saved = await ed.download('save-frame-button');
    expect(readTextChunks(new Uint8Array(readFileSync((await saved.path())!))).parameters).toMatch(/Mode: img2img.*Strength: 0\.5, Inputs:/);
  });

  test('cancel an image-mode run half-way: canvas, gallery and inputs untouched', async () => {
    await mp.mode('variations');
    await ed.setParams({ steps: 60 });
    const pixels = await ed.pixels(FRAME);
    const names = await ed.undoNames();
    const gallery = await mp.galleryCount();
    const rows = await mp.rows();
    await ed.byId('generate-button').click();
    await ed.page.waitForSelector('[data-testid="progress-stage"][data-stage="unet"]', { timeout: 120_000 });
    await shot('10-variations-running');
    await ed.byId('cancel-button').click();
    await ed.notice('cancelled', 120_000);
    await expect.poll(() => ed.byId('progress').count()).toBe(0);
    expect(await ed.byId('accept-result-button').count()).toBe(0);
    expect(await ed.pixels(FRAME)).toEqual(pixels);
    expect(await ed.undoNames()).toEqual(names);
    expect(await mp.galleryCount()).toBe(gallery);
    expect(await mp.rows()).toEqual(rows);
    await ed.setParams(RUN);
  });

  test('re-run a fusion result from the gallery after a reload: identical pixels', async () => {
    await ed.flush();
    await ed.page.waitForTimeout(300); // the panel's own save is queued on each change
    await ed.page.reload();
    await ed.waitForApp();
    await ed.waitForModel();
    await expect.poll(() => mp.byId('mode-select').inputValue()).toBe('variations'); // the panel came back too
    // Change everything the re-run needs, then step back before that result so the frame differs.
    await mp.mode('text2img');
    await ed.setParams({ seed: 999, steps: 4 });
    await ed.byId('undo-button').click();
    await ed.byId('undo-button').click();
    expect(await ed.pixels(FRAME)).not.toEqual(fusionPixels);
    await ed.page.locator(`[data-testid="gallery-item"][data-id="${fusionGalleryId}"] [data-testid="gallery-reuse"]`).click();
    await expect.poll(() => mp.byId('mode-select').inputValue()).toBe('fusion');
    await expect.poll(() => mp.rows()).toEqual([{ kind: 'image', id: wideId, weight: 0.6 }, { kind: 'text', id: null, weight: 0.4 }]);
    expect(await mp.byId('mode-text-1').inputValue()).toBe('in the style of Van Gogh');
    expect(await ed.byId('seed-input').inputValue()).toBe('31');
    expect(await ed.byId('steps-input').inputValue()).toBe('3');
    await shot('11-rerun-restored');
    await ed.generateAndWait();
    await ed.byId('accept-result-button').click();
    expect(await ed.pixels(FRAME)).toEqual(fusionPixels);
    await shot('12-rerun-identical');
  });

  test('the panel in Russian', async () => {
    await mp.mode('fusion');
    await ed.byId('language-select').selectOption('ru');
    await expect.poll(() => mp.byId('mode-add-text').textContent()).toBe('Добавить текст');
    expect(await mp.byId('mode-select').locator('option[value="variations"]').textContent()).toBe('Вариации');
    await shot('13-russian');
    await ed.byId('language-select').selectOption('en');
  });
});

describe('a bundle without image_encoder', () => {
  let ed: EditorPage;
  beforeAll(async () => {
    const context = await newContext(browser);
    // Serve the tiny bundle's manifest without its image_encoder stage (the file stays, unused).
    await context.route(/\/models\/tiny-kandinsky-2-2\/manifest\.json$/, async (route) => {
      const res = await route.fetch();
      const manifest = await res.json() as { name: string; stages: Record<string, unknown> };
      delete manifest.stages.image_encoder;
      await route.fulfill({ response: res, json: manifest });
    });
    ed = await EditorPage.open(context, { ep: 'wasm' });
  });
  afterAll(async () => { await ed?.page.context().close(); });

  test('variations are disabled with the reason; fusion keeps texts but refuses images', async () => {
    await ed.waitForModel();
    const mp = new ModesPage(ed);
    const select = mp.byId('mode-select');
    expect(await select.locator('option[value="variations"]').isDisabled()).toBe(true);
    expect(await select.locator('option[value="img2img"]').isDisabled()).toBe(false);
    expect(await mp.byId('mode-disabled-reason').textContent()).toMatch(/cannot do Variations: it has no image_encoder stage/);
    await mp.mode('fusion');
    expect(await mp.byId('mode-image-from-frame').isDisabled()).toBe(true);
    expect(await mp.byId('mode-image-input').isDisabled()).toBe(true);
    expect(await mp.byId('mode-images-disabled-reason').textContent()).toMatch(/no image_encoder stage \(texts still work\)/);
    await mp.screenshot('modes-14-no-image-encoder.png');
  });
});
