/**
 * Autosave that cannot lose work (issue 13), end to end on the tiny bundle (wasm, 64×64 frames):
 * storage runs out while a result is accepted, and the page is killed right after Accept.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchBrowser, newContext } from './support/browser.ts';
import { baseUrl } from './support/base-url.ts';
import { EditorPage, type Box } from './pages/editor-page.ts';
import { fillQuota, restoreQuota } from './support/storage-quota.ts';

let browser: Browser;
beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });

/** Open the editor and load the model. */
async function openReady(context: BrowserContext): Promise<EditorPage> {
  const ed = await EditorPage.open(context, { ep: 'wasm' });
  await ed.waitForModel();
  return ed;
}

/** Generate one small result into a 64×64 frame (staged, not accepted). */
async function stagedResult(ed: EditorPage): Promise<Box> {
  await ed.byId('size-select').selectOption('64');
  await ed.setParams({ prompt: 'a red boat', seed: 7, steps: 2, priorSteps: 2 });
  const frame = await ed.frame();
  expect(frame.width * frame.height).toBe(64 * 64);
  await ed.generateAndWait();
  return frame;
}

/** True when every pixel of the frame is opaque (a landed result; the empty canvas is transparent). */
const allOpaque = (px: readonly number[]): boolean => px.every((v, i) => i % 4 !== 3 || v === 255);

describe('autosave that cannot lose work', () => {
  test('storage full while accepting: nothing is lost; once space is free the retry saves the result and its undo step', async () => {
    const context = await newContext(browser);
    try {
      const ed = await openReady(context);
      const cdp = await context.newCDPSession(ed.page);
      // Squeeze storage while the run goes on (the quota takes up to 30 s to bite); its gallery write may fail too.
      const [refused, frame] = await Promise.all([fillQuota(cdp, ed.page, baseUrl()), stagedResult(ed)]);
      expect(refused).toBe('QuotaExceededError');
      let accepted: number[];
      try {
        await ed.byId('accept-result-button').click();
        accepted = await ed.pixels(frame);
        expect(allOpaque(accepted)).toBe(true);
        const text = await ed.notice('storageQuota');
        expect(text).toMatch(/Storage is full.*QuotaExceededError.*kept in memory/);
        await ed.flush(); // a second failure (e.g. the tab was hidden) replaces the notice rather than adding one
        expect(await ed.page.locator('[data-testid="notice"][data-key^="storage"]').count()).toBe(1);
        await ed.screenshot('autosave-quota.png');
      } finally {
        await restoreQuota(cdp, baseUrl());
      }
      // Space is free again: the backoff retry saves, and the notice goes away by itself.
      await ed.page.locator('[data-testid="notice"][data-key="storageQuota"]').waitFor({ state: 'detached', timeout: 60_000 });
      await ed.page.reload();
      await ed.waitForApp();
      await ed.notice('restored');
      expect(await ed.pixels(frame)).toEqual(accepted);
      expect(await ed.undoNames()).toEqual(['generate']);
      expect(await ed.page.getByTestId('gallery-item').count()).toBe(1);
      await ed.byId('undo-button').click();
      expect((await ed.pixels(frame)).every((v, i) => i % 4 !== 3 || v === 0)).toBe(true);
    } finally {
      await context.close();
    }
  });

  test('the tab crashes right after Accept: the result is on the canvas when the app is opened again', async () => {
    const context = await newContext(browser);
    try {
      const ed = await openReady(context);
      const frame = await stagedResult(ed);
      await ed.flush(); // the run's gallery item is written: only Accept's own write is in question
      const cdp = await context.newCDPSession(ed.page);
      const crashed = new Promise<void>((resolve) => ed.page.once('crash', () => resolve()));
      await ed.byId('accept-result-button').click();
      // Kill the renderer at once (no pagehide, no unload): only a write started by Accept itself survives.
      void cdp.send('Page.crash').catch(() => undefined);
      await crashed;
      const again = await EditorPage.open(context, { autoload: false });
      const px = await again.pixels(frame);
      expect(allOpaque(px)).toBe(true);
      expect(await again.undoNames()).toEqual(['generate']);
    } finally {
      await context.close();
    }
  });
});
