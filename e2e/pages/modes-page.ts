/** Page object for the image modes' panel (src/modes/ModePanel.tsx), on top of the editor's page object. */
import { readFileSync } from 'node:fs';
import type { Locator } from 'playwright-core';
import { parseParameters, type ImageParameters } from '../../src/editor/parameters.ts';
import { readTextChunks } from '../../src/editor/png.ts';
import type { EditorPage } from './editor-page.ts';

/** One row of the inputs list as the page shows it. */
export interface InputRow {
  readonly kind: 'image' | 'text';
  readonly id: string | null;
  readonly weight: number;
}

export class ModesPage {
  constructor(readonly ed: EditorPage) {}

  /** Screenshot with the mode panel scrolled into view. */
  async screenshot(name: string): Promise<void> {
    await this.byId('mode-panel').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await this.ed.page.mouse.move(0, 0);
    await this.ed.screenshot(name);
  }

  byId(id: string): Locator {
    return this.ed.byId(id);
  }

  async mode(mode: 'text2img' | 'img2img' | 'variations' | 'fusion'): Promise<void> {
    await this.byId('mode-select').selectOption(mode);
  }

  async addFromFrame(): Promise<void> {
    const before = await this.signature();
    await this.byId('mode-image-from-frame').click();
    await this.waitForChange(before);
  }

  /** Pick a gallery item in the picker by its gallery id. */
  async addFromGallery(galleryId: string): Promise<void> {
    const before = await this.signature();
    await this.byId('mode-image-from-gallery').click();
    await this.ed.page.locator(`[data-testid="mode-gallery-option"][data-id="${galleryId}"]`).click();
    await this.waitForChange(before);
  }

  /** Choose a file through the panel's file input (the error path passes expectRow = false). */
  async addFile(name: string, mimeType: string, buffer: Buffer, expectRow = true): Promise<void> {
    const before = await this.signature();
    await this.byId('mode-image-input').setInputFiles({ name, mimeType, buffer });
    if (expectRow) await this.waitForChange(before);
  }

  async addText(prompt: string): Promise<void> {
    await this.byId('mode-add-text').click();
    const i = (await this.rowCount()) - 1;
    if (prompt !== '') await this.byId(`mode-text-${i}`).fill(prompt);
  }

  async remove(index: number): Promise<void> {
    const before = await this.rowCount();
    await this.byId(`mode-remove-${index}`).click();
    await this.ed.page.waitForFunction((n) => document.querySelectorAll('[data-testid="mode-input"]').length === n, before - 1);
  }

  /** Move a range slider the way a drag does: the value changes and an input event fires. */
  async slide(testId: string, value: number): Promise<void> {
    await this.byId(testId).evaluate((el, v) => {
      const input = el as HTMLInputElement;
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set?.call(input, String(v));
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }

  async setWeight(index: number, weight: number): Promise<void> {
    await this.slide(`mode-weight-${index}`, weight);
    await this.ed.page.waitForFunction(([i, w]) => document.querySelector(`[data-testid="mode-weight-value-${i}"]`)?.textContent === (w as number).toFixed(2), [index, weight] as const);
  }

  async setStrength(strength: number): Promise<void> {
    await this.slide('strength-input', strength);
    await this.ed.page.waitForFunction((s) => document.querySelector('[data-testid="strength-value"]')?.textContent === s.toFixed(2), strength);
  }

  async rowCount(): Promise<number> {
    return this.ed.page.getByTestId('mode-input').count();
  }

  /** The image ids and kinds of the list, as one string. */
  private async signature(): Promise<string> {
    return JSON.stringify(await this.rows());
  }

  /** Wait until the list changed (an image was added or replaced); fails with the panel's message if it refused. */
  private async waitForChange(before: string): Promise<void> {
    const handle = await this.ed.page.waitForFunction((b) => {
      const rows = [...document.querySelectorAll('[data-testid="mode-input"]')].map((el) => ({
        kind: el.getAttribute('data-kind'), id: el.getAttribute('data-id'), weight: Number(el.getAttribute('data-weight')),
      }));
      if (JSON.stringify(rows) !== b) return 'changed';
      return document.querySelector('[data-testid="mode-error"]')?.textContent ?? false;
    }, before, { timeout: 60_000 });
    const outcome = await handle.jsonValue();
    if (outcome !== 'changed') throw new Error(`the mode panel refused the image: ${String(outcome)}`);
  }

  /** The inputs list: kind, image id and weight of each row. */
  async rows(): Promise<InputRow[]> {
    return this.ed.page.$$eval('[data-testid="mode-input"]', (els) => els.map((el) => ({
      kind: el.getAttribute('data-kind') as 'image' | 'text',
      id: el.getAttribute('data-id'),
      weight: Number(el.getAttribute('data-weight')),
    })));
  }

  /** Wait for the panel's refusal with this i18n key; returns its text. */
  async error(key: string, timeoutMs = 30_000): Promise<string> {
    const e = this.ed.page.locator(`[data-testid="mode-error"][data-key="${key}"]`);
    await e.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await e.textContent()) ?? '';
  }

  async galleryCount(): Promise<number> {
    return this.ed.page.getByTestId('gallery-item').count();
  }

  /** Gallery id of the newest item. */
  async newestGalleryId(): Promise<string> {
    return (await this.ed.page.getByTestId('gallery-item').first().getAttribute('data-id')) ?? '';
  }

  /** Download a gallery item's PNG through its button and read the parameters embedded in it. */
  async galleryParameters(galleryId: string): Promise<{ params: ImageParameters; json: unknown }> {
    const item = this.ed.page.locator(`[data-testid="gallery-item"][data-id="${galleryId}"]`);
    await item.hover(); // the item's buttons show on hover
    const [d] = await Promise.all([this.ed.page.waitForEvent('download'), item.getByTitle('Download PNG').click()]);
    const chunks = readTextChunks(new Uint8Array(readFileSync((await d.path())!)));
    return { params: parseParameters(chunks.parameters ?? ''), json: JSON.parse(chunks.kandinsky ?? 'null') };
  }
}
