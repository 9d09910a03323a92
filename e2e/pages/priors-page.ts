/** Page object for the prior section and the prior-fitting dialog (src/priors/PriorPanel.tsx), on top of the editor's. */
import { readFileSync } from 'node:fs';
import type { Locator } from 'playwright-core';
import type { EditorPage } from './editor-page.ts';

/** A file for a file input. */
export interface FilePayload {
  readonly name: string;
  readonly mimeType: string;
  readonly buffer: Buffer;
}

export class PriorsPage {
  constructor(readonly ed: EditorPage) {}

  byId(id: string): Locator {
    return this.ed.byId(id);
  }

  async openDialog(): Promise<void> {
    if (await this.byId('prior-dialog').count() === 0) await this.byId('prior-fit-open').click();
    await this.byId('prior-dialog').waitFor({ state: 'visible' });
  }

  async closeDialog(): Promise<void> {
    await this.byId('prior-dialog-close').click();
    await this.byId('prior-dialog').waitFor({ state: 'detached' });
  }

  async addFiles(files: readonly FilePayload[]): Promise<void> {
    await this.byId('prior-files-input').setInputFiles(files.map((f) => ({ ...f })));
  }

  async imageCount(): Promise<number> {
    return Number(await this.byId('prior-image-count').getAttribute('data-count'));
  }

  /** Wait for the dialog's message with this key; returns its text. */
  async message(key: string, timeoutMs = 30_000): Promise<string> {
    const m = this.ed.page.locator(`[data-testid="prior-message"][data-key="${key}"]`);
    await m.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await m.textContent()) ?? '';
  }

  /** Stored priors as [id, name]. */
  async rows(): Promise<[string, string][]> {
    const rows = await this.ed.page.getByTestId('prior-row').all();
    return Promise.all(rows.map(async (r) => [(await r.getAttribute('data-id')) ?? '', (await r.getAttribute('data-name')) ?? ''] as [string, string]));
  }

  row(id: string): Locator {
    return this.ed.page.locator(`[data-testid="prior-row"][data-id="${id}"]`);
  }

  /** Export a stored prior through its button; returns the file's bytes and name. */
  async export(id: string): Promise<{ bytes: Buffer; name: string }> {
    const [d] = await Promise.all([this.ed.page.waitForEvent('download'), this.row(id).getByTestId('prior-export').click()]);
    const path = await d.path();
    return { bytes: readFileSync(path), name: d.suggestedFilename() };
  }

  /** PNG images drawn on the page's canvas: solid colours and stripes, one per index. */
  async makePngs(count: number, side = 48): Promise<FilePayload[]> {
    const b64 = await this.ed.page.evaluate(async ({ count, side }) => {
      const out: string[] = [];
      for (let i = 0; i < count; i++) {
        const c = new OffscreenCanvas(side, side);
        const g = c.getContext('2d')!;
        g.fillStyle = `hsl(${(i * 360) / count}, 80%, ${30 + (i % 3) * 20}%)`;
        g.fillRect(0, 0, side, side);
        if (i % 2 === 1) {
          g.fillStyle = i % 4 === 1 ? '#ffffff' : '#000000';
          for (let x = 0; x < side; x += 8) g.fillRect(x, 0, 4, side);
        }
        const bytes = new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer());
        let s = '';
        for (const v of bytes) s += String.fromCharCode(v);
        out.push(btoa(s));
      }
      return out;
    }, { count, side });
    return b64.map((b, i) => ({ name: `shape-${String(i).padStart(2, '0')}.png`, mimeType: 'image/png', buffer: Buffer.from(b, 'base64') }));
  }
}
