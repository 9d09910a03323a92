/** Page object for the model manager (and the bits of the editor the offline test needs); all actions go through the UI. */
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { artifactPath } from '../support/browser.ts';
import { waitForModelReady } from '../support/model-status.ts';

/** What the progress panel shows. */
export interface ProgressState {
  readonly phase: string;
  readonly loaded: number;
  readonly total: number;
  readonly text: string;
}

/** The app as the model-manager tests drive it. */
export class ModelsPage {
  constructor(readonly page: Page) {}

  /** Open the app at `appUrl` (small frames, wasm EP) in a new page and wait until its service worker controls it. */
  static async open(context: BrowserContext, appUrl: string): Promise<ModelsPage> {
    const page = await context.newPage();
    page.setDefaultTimeout(60_000); // actions and screenshots can be slow when the machine is busy
    page.on('pageerror', (e) => console.error(`[pageerror] ${e.message}`));
    await page.goto(`${appUrl}/?small=1&ep=wasm`);
    const p = new ModelsPage(page);
    await p.waitForServiceWorker();
    return p;
  }

  byId(id: string): Locator {
    return this.page.getByTestId(id);
  }

  async waitForServiceWorker(): Promise<void> {
    await this.page.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 60_000 });
  }

  /** Wait until the editor's model status says "ready" (fails fast on "error"). */
  async waitForModel(timeoutMs = 120_000): Promise<string> {
    return waitForModelReady(this.page, timeoutMs, 200);
  }

  async openManager(): Promise<void> {
    if (!(await this.byId('model-manager').isVisible())) await this.byId('model-manager-button').click();
    await this.byId('model-manager').waitFor({ state: 'visible' });
  }

  async closeManager(): Promise<void> {
    if (await this.byId('model-manager').isVisible()) await this.byId('model-manager-close').click();
    await this.byId('model-manager').waitFor({ state: 'hidden' });
  }

  /** Type a bundle URL and press Download. */
  async download(url: string): Promise<void> {
    await this.openManager();
    await this.byId('model-url-input').fill(url);
    await this.byId('model-download-button').click();
  }

  /** Press Download again for the URL already in the input (resume). */
  async downloadAgain(): Promise<void> {
    await this.byId('model-download-button').click();
  }

  async progress(): Promise<ProgressState> {
    const el = this.byId('model-download-progress');
    return {
      phase: (await el.getAttribute('data-phase')) ?? '',
      loaded: Number(await el.getAttribute('data-loaded')),
      total: Number(await el.getAttribute('data-total')),
      text: (await el.textContent()) ?? '',
    };
  }

  /** Wait for the progress panel to reach a phase. */
  async waitForPhase(phase: string, timeoutMs = 60_000): Promise<void> {
    await this.page.locator(`[data-testid="model-download-progress"][data-phase="${phase}"]`).waitFor({ timeout: timeoutMs });
  }

  /** Wait until one file's row shows at least `bytes` stored. */
  async waitForFileBytes(path: string, bytes: number, timeoutMs = 30_000): Promise<void> {
    await this.page.waitForFunction(
      ([path, bytes]) => Number(document.querySelector(`[data-testid="model-file-${path}"]`)?.getAttribute('data-loaded') ?? -1) >= bytes,
      [path, bytes] as const,
      { timeout: timeoutMs, polling: 100 },
    );
  }

  /** The error line: code and text. */
  async error(timeoutMs = 30_000): Promise<{ code: string; text: string }> {
    const el = this.byId('model-error');
    await el.waitFor({ timeout: timeoutMs });
    return { code: (await el.getAttribute('data-code')) ?? '', text: (await el.textContent()) ?? '' };
  }

  async notice(timeoutMs = 30_000): Promise<string> {
    const el = this.byId('model-notice');
    await el.waitFor({ timeout: timeoutMs });
    return (await el.textContent()) ?? '';
  }

  /** Id of the stored bundle whose source label contains `label` (from its `model-item-<id>` test id), optionally of one source kind. */
  async itemIdBySource(label: string, kind?: 'url' | 'folder' | 'builtin', timeoutMs = 30_000): Promise<string> {
    await this.openManager();
    const items = this.page.locator(kind ? `[data-testid="model-list"] > li[data-source="${kind}"]` : '[data-testid="model-list"] > li');
    const item = items.filter({ has: this.page.locator('.mm-source', { hasText: label }) });
    await item.first().waitFor({ timeout: timeoutMs });
    const testId = (await item.first().getAttribute('data-testid')) ?? '';
    return testId.replace(/^model-item-/, '');
  }

  item(id: string): Locator {
    return this.byId(`model-item-${id}`);
  }

  /** Wait for a stored bundle's status ("ready", "incomplete" or "damaged"). */
  async waitForItemStatus(id: string, status: 'ready' | 'incomplete' | 'damaged', timeoutMs = 60_000): Promise<void> {
    await this.page.locator(`[data-testid="model-item-${id}"][data-status="${status}"]`).waitFor({ timeout: timeoutMs });
  }

  /** Hand a folder to the `<input webkitdirectory>`. */
  async importFolder(dir: string): Promise<void> {
    await this.openManager();
    await this.byId('model-folder-input').setInputFiles(dir);
  }

  async activate(id: string): Promise<void> {
    await this.openManager();
    await this.byId(`model-activate-${id}`).click();
  }

  /** Delete a bundle (the button asks for a second click). */
  async remove(id: string): Promise<void> {
    await this.openManager();
    const button = this.byId(`model-delete-${id}`);
    await button.click();
    await button.click();
    await this.item(id).waitFor({ state: 'detached', timeout: 30_000 });
  }

  /** Bytes the storage line says stored models take. */
  async bundleBytes(): Promise<number> {
    const el = this.byId('storage-usage');
    await this.page.waitForFunction(() => document.querySelector('[data-testid="storage-usage"]')?.hasAttribute('data-bundle-bytes'));
    return Number(await el.getAttribute('data-bundle-bytes'));
  }

  /** Generate a small image through the prompt panel and wait for the result strip. */
  async generate(prompt: string, steps = 2, timeoutMs = 240_000): Promise<void> {
    await this.byId('prompt-input').fill(prompt);
    await this.byId('steps-input').fill(String(steps));
    await this.byId('generate-button').click();
    await this.byId('accept-result-button').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: artifactPath(name) });
  }
}
