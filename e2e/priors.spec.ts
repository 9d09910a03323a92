/**
 * Personal linear priors end to end (issue 12), on the real generation worker with the tiny bundle on
 * wasm: fit a prior from 20 images made on the page's canvas through the dialog, generate with it,
 * reload and generate again to identical pixels, export, delete and import it back; bad input (too
 * few images, an unreadable file, wrong caption count, a prior file for another embedding size, a
 * cancel mid-fit) gets a clear message and loses nothing. Screenshots go to e2e/artifacts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext } from './support/browser.ts';
import { EditorPage, type Box } from './pages/editor-page.ts';
import { ModesPage } from './pages/modes-page.ts';
import { PriorsPage, type FilePayload } from './pages/priors-page.ts';
import { decodeLinearPrior, encodeLinearPrior, LINEAR_PRIOR_SPACE } from '../workers/priors/file.ts';

let browser: Browser;
beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });

const RUN = { prompt: 'a lighthouse at night', seed: 5, steps: 3, priorSteps: 2 } as const;
const FRAME: Box = { x: 0, y: 0, width: 128, height: 128 };
const CAPTIONS = Array.from({ length: 20 }, (_, i) => `${i % 2 === 1 ? 'striped' : 'plain'} ${['red', 'yellow', 'green', 'cyan', 'blue', 'purple'][Math.floor((i * 6) / 20)]} square`);

describe('personal linear priors on wasm', () => {
  let ed: EditorPage;
  let pp: PriorsPage;
  let pngs: FilePayload[] = [];
  let priorId = '';
  let firstPixels: number[] = [];
  let exported: { bytes: Buffer; name: string } | null = null;
  const shot = (n: string): Promise<void> => ed.screenshot(`priors-${n}.png`);

  beforeAll(async () => {
    ed = await EditorPage.open(await newContext(browser), { ep: 'wasm' });
    pp = new PriorsPage(ed);
    expect(await ed.waitForModel()).toContain('wasm');
    pngs = await pp.makePngs(20);
  });
  afterAll(async () => { await ed?.page.context().close(); });

  test('too few images, an unreadable file, a wrong caption count: clear messages, nothing stored', async () => {
    await pp.openDialog();
    await pp.byId('prior-fit-button').click();
    expect(await pp.message('errTooFew')).toMatch(/at least 4 images; 0 chosen/);
    await pp.addFiles([...pngs.slice(0, 3), { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') }]);
    expect(await pp.message('errUnreadable')).toContain('notes.txt');
    expect(await pp.imageCount()).toBe(3); // the readable ones stay
    await pp.byId('prior-fit-button').click();
    expect(await pp.message('errTooFew')).toMatch(/3 chosen/);
    await pp.byId('prior-images-clear').click();
    await pp.addFiles(pngs);
    await expect.poll(() => pp.imageCount()).toBe(20);
    await pp.byId('prior-captions').fill(CAPTIONS.slice(0, 19).join('\n'));
    await pp.byId('prior-fit-button').click();
    expect(await pp.message('errCaptionCount')).toMatch(/19 caption lines for 20 images/);
    expect(await pp.rows()).toEqual([]);
    await shot('00-bad-input');
  });

  test('a cancel mid-fit stores nothing; the fit then finishes and is chosen in the prompt panel', async () => {
    await pp.byId('prior-captions').fill(CAPTIONS.join('\n'));
    await pp.byId('prior-name').fill('my squares');
    await pp.byId('prior-fit-button').click();
    await ed.page.waitForFunction(() => Number(document.querySelector('[data-testid="prior-progress"]')?.getAttribute('data-step') ?? 0) >= 2);
    await pp.byId('prior-fit-cancel').click();
    expect(await pp.message('fitCancelled')).toMatch(/nothing was stored/);
    expect(await pp.rows()).toEqual([]);
    expect(await pp.imageCount()).toBe(20); // the chosen images and captions are kept
    await pp.byId('prior-fit-button').click();
    expect(await pp.message('fitDone', 120_000)).toMatch(/Fitted "my squares": leave-one-out error [\d.e+-]+ \(predicting the mean: [\d.e+-]+\), λ = /);
    const rows = await pp.rows();
    expect(rows.map((r) => r[1])).toEqual(['my squares']);
    priorId = rows[0]![0];
    await shot('01-fitted');
    await pp.closeDialog();
    expect(await pp.byId('prior-kind-select').inputValue()).toBe('linear');
    expect(await pp.byId('prior-linear-select').inputValue()).toBe(priorId);
  });

  test('generate with it: the PNG parameters name the prior; after a reload the same pixels again', async () => {
    await ed.setParams(RUN);
    await ed.generateAndWait();
    await ed.byId('accept-result-button').click();
    firstPixels = await ed.pixels(FRAME);
    const mp = new ModesPage(ed);
    const { params } = await mp.galleryParameters(await mp.newestGalleryId());
    expect(params.prior).toBe(`linear: my squares (${priorId})`);
    await shot('02-generated');

    await ed.flush();
    await ed.page.reload();
    await ed.waitForApp();
    await ed.waitForModel();
    await expect.poll(() => pp.byId('prior-kind-select').inputValue()).toBe('linear');
    expect(await pp.byId('prior-linear-select').inputValue()).toBe(priorId);
    await ed.byId('undo-button').click(); // back to the empty frame
    expect(await ed.pixels(FRAME)).not.toEqual(firstPixels);
    await ed.setParams(RUN);
    await ed.generateAndWait();
    await ed.byId('accept-result-button').click();
    expect(await ed.pixels(FRAME)).toEqual(firstPixels);
    await shot('03-after-reload');
  });

  test('export, delete and import it back; a prior file for another model size or family is refused', async () => {
    await pp.openDialog();
    exported = await pp.export(priorId);
    expect(exported.name).toBe('my-squares.kwlp');
    const file = decodeLinearPrior(new Uint8Array(exported.bytes));
    expect(file.header).toMatchObject({ name: 'my squares', embedding_dim: 32, text_dim: 32, num_images: 20, captions: 'per-image' });
    expect(file.header.image_hashes).toHaveLength(20);
    await pp.row(priorId).getByTestId('prior-delete').click();
    await expect.poll(() => pp.rows()).toEqual([]);
    expect(await pp.byId('prior-kind-select').inputValue()).toBe('diffusion'); // nothing left to be linear with

    const priorFile = (name: string, family: string, d: number) => Buffer.from(encodeLinearPrior({
      header: { format: 'kandinsky-linear-prior', version: 1, name, family, embedding_dim: d, text_dim: d, space: LINEAR_PRIOR_SPACE },
      weight: new Float32Array(d * d), bias: new Float32Array(d),
    }));
    // Another size of the same family: refused naming both sizes.
    await pp.byId('prior-import-input').setInputFiles({ name: 'bigger.kwlp', mimeType: 'application/octet-stream', buffer: priorFile('bigger', 'kandinsky-2.2', 768) });
    await expect.poll(() => pp.message('errImport')).toMatch(/768-d .* "tiny-random-kandinsky-2-2" .* 32-d/);
    // The other family at the same size: refused naming both families (its CLIP space is another one).
    await pp.byId('prior-import-input').setInputFiles({ name: 'for-2-1.kwlp', mimeType: 'application/octet-stream', buffer: priorFile('for 2.1', 'kandinsky-2.1', 32) });
    await expect.poll(() => pp.message('errImport')).toMatch(/fitted on a kandinsky-2\.1 model, but the loaded model "tiny-random-kandinsky-2-2" is kandinsky-2\.2/);
    await pp.byId('prior-import-input').setInputFiles({ name: 'junk.kwlp', mimeType: 'application/octet-stream', buffer: Buffer.from('KWLPjunk') });
    await expect.poll(() => pp.message('errImport')).toContain('junk.kwlp');
    expect(await pp.rows()).toEqual([]);

    await pp.byId('prior-import-input').setInputFiles({ name: exported.name, mimeType: 'application/octet-stream', buffer: exported.bytes });
    expect(await pp.message('imported')).toContain('my squares');
    const rows = await pp.rows();
    expect(rows.map((r) => r[1])).toEqual(['my squares']);
    const again = await pp.export(rows[0]![0]);
    expect(again.bytes.equals(exported.bytes)).toBe(true);
    await shot('04-imported');
    await pp.closeDialog();

    // The imported prior draws the same picture.
    await pp.byId('prior-kind-select').selectOption('linear');
    expect(await pp.byId('prior-linear-select').inputValue()).toBe(rows[0]![0]);
    await ed.byId('undo-button').click();
    await ed.setParams(RUN);
    await ed.generateAndWait();
    await ed.byId('accept-result-button').click();
    expect(await ed.pixels(FRAME)).toEqual(firstPixels);
  });
});
