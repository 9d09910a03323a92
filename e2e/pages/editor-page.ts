/** Page object for the canvas editor: actions go through the UI; `window.__kandinsky` only reads state. */
import type { BrowserContext, CDPSession, Download, Locator, Page } from 'playwright-core';
import { artifactPath } from '../support/browser.ts';
import { baseUrl } from '../support/base-url.ts';
import { waitForModelReady } from '../support/model-status.ts';

export interface Pt { readonly x: number; readonly y: number }
export interface Box { readonly x: number; readonly y: number; readonly width: number; readonly height: number }

/** Options of the page's URL (see README: ep, small, autoload). */
export interface OpenOptions {
  readonly ep?: 'wasm' | 'webgpu' | 'auto';
  readonly autoload?: boolean;
}

export class EditorPage {
  private cdp: CDPSession | null = null;
  constructor(readonly page: Page) {}

  /** Open the editor in a fresh page of `context` with small test frames. */
  static async open(context: BrowserContext, options: OpenOptions = {}): Promise<EditorPage> {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`[pageerror] ${e.message}`));
    const q = new URLSearchParams({ small: '1' });
    if (options.ep) q.set('ep', options.ep);
    if (options.autoload === false) q.set('autoload', '0');
    await page.goto(`${baseUrl()}/?${q.toString()}`);
    const editor = new EditorPage(page);
    await editor.waitForApp();
    return editor;
  }

  async waitForApp(): Promise<void> {
    await this.byId('canvas').waitFor({ state: 'visible', timeout: 60_000 });
    await this.page.waitForFunction(() => window.__kandinsky !== undefined);
  }

  byId(id: string): Locator {
    return this.page.getByTestId(id);
  }

  /** Wait until the model status says "ready". */
  async waitForModel(timeoutMs = 180_000): Promise<string> {
    return waitForModelReady(this.page, timeoutMs);
  }

  async fill(id: string, value: string): Promise<void> {
    await this.byId(id).fill(value);
  }

  /** Set the run parameters through the panel (fixed seed, small runs). */
  async setParams(p: { prompt?: string; negative?: string; steps?: number; priorSteps?: number; seed?: number; scheduler?: string; style?: string; numImages?: number }): Promise<void> {
    if (p.prompt !== undefined) await this.fill('prompt-input', p.prompt);
    if (p.negative !== undefined) await this.fill('negative-prompt-input', p.negative);
    if (p.style !== undefined) await this.byId('style-select').selectOption(p.style);
    if (p.steps !== undefined) await this.fill('steps-input', String(p.steps));
    if (p.scheduler !== undefined) await this.byId('scheduler-select').selectOption(p.scheduler);
    if (p.numImages !== undefined) await this.byId('num-images-select').selectOption(String(p.numImages));
    if (p.seed !== undefined) {
      await this.byId('random-seed-checkbox').uncheck();
      await this.fill('seed-input', String(p.seed));
    }
    if (p.priorSteps !== undefined) {
      await this.page.locator('details.advanced summary').click();
      await this.fill('prior-steps-input', String(p.priorSteps));
      await this.page.locator('details.advanced summary').click();
    }
  }

  /** The "Live preview" setting (under Advanced): what it showed, then set to `on`. */
  async setLivePreview(on: boolean): Promise<boolean> {
    const summary = this.page.locator('details.advanced summary');
    await summary.click();
    const box = this.byId('live-preview-checkbox');
    const was = await box.isChecked();
    await box.setChecked(on);
    await summary.click();
    return was;
  }

  async tool(id: 'pan' | 'frame' | 'eraser' | 'mask' | 'move'): Promise<void> {
    await this.byId(`tool-${id}`).click();
  }

  /** Take the eraser with a hard brush of `size` px (the inpainting specs' setup). */
  async hardEraser(size: number): Promise<void> {
    await this.tool('eraser');
    await this.byId('brush-size-input').fill(String(size));
    await this.byId('brush-hardness-input').fill('100');
  }

  /** Page coordinates of a document point. */
  async client(p: Pt): Promise<Pt> {
    return this.page.evaluate((p) => window.__kandinsky!.docToClient(p), p);
  }

  /** A mouse drag between two document points. */
  async dragDoc(from: Pt, to: Pt, steps = 12): Promise<void> {
    const a = await this.client(from);
    const b = await this.client(to);
    await this.page.mouse.move(a.x, a.y);
    await this.page.mouse.down();
    await this.page.mouse.move(b.x, b.y, { steps });
    await this.page.mouse.up();
  }

  async frame(): Promise<Box> {
    return this.page.evaluate(() => window.__kandinsky!.frame());
  }

  async pixels(rect: Box): Promise<number[]> {
    return this.page.evaluate((r) => window.__kandinsky!.readPixels(r), rect);
  }

  async undoNames(): Promise<string[]> {
    return this.page.evaluate(() => window.__kandinsky!.undoNames());
  }

  /** Click Generate and wait for the staging strip. */
  async generateAndWait(timeoutMs = 240_000): Promise<void> {
    await this.byId('generate-button').click();
    await this.byId('accept-result-button').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Wait for a message with this i18n key; returns its text. */
  async notice(key: string, timeoutMs = 30_000): Promise<string> {
    const n = this.page.locator(`[data-testid="notice"][data-key="${key}"]`).last();
    await n.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await n.textContent()) ?? '';
  }

  async closeNotices(): Promise<void> {
    // A notice may close by itself meanwhile: don't wait out the default 30 s for its button.
    for (const b of await this.page.locator('[data-testid="notice"] button').all()) await b.click({ timeout: 1000 }).catch(() => undefined);
  }

  async screenshot(name: string): Promise<void> {
    await this.page.waitForTimeout(100); // let the canvas draw its next frame
    await this.page.screenshot({ path: artifactPath(name) });
  }

  /** Click a button that triggers a download; returns the download. */
  async download(id: string): Promise<Download> {
    const [d] = await Promise.all([this.page.waitForEvent('download'), this.byId(id).click()]);
    return d;
  }

  /** Open a file through the hidden file input. */
  async openFile(name: string, mimeType: string, buffer: Buffer): Promise<void> {
    await this.byId('open-image-input').setInputFiles({ name, mimeType, buffer });
  }

  /**
   * A touch event through the DevTools protocol (Chromium turns it into pointer events of type
   * "touch"): `fingers` are the client positions of every finger down after the event (ids by index).
   */
  async touch(type: 'touchStart' | 'touchMove' | 'touchEnd', fingers: readonly Pt[]): Promise<void> {
    this.cdp ??= await this.page.context().newCDPSession(this.page);
    await this.cdp.send('Input.dispatchTouchEvent', { type, touchPoints: fingers.map((p, i) => ({ x: p.x, y: p.y, id: i + 1 })) });
  }

  /** The zoom shown in the status bar, as a factor. */
  async zoom(): Promise<number> {
    return Number.parseFloat((await this.byId('zoom-level').textContent()) ?? 'NaN') / 100;
  }

  /** Wait until the autosave has written everything. */
  async flush(): Promise<void> {
    await this.page.evaluate(() => window.__kandinsky!.flush());
  }
}
