import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchBrowser, newContext } from './support/browser.ts';
import { baseUrl } from './support/base-url.ts';
import type { Result, GenerateResult, BundleInfo } from '../workers/protocol.ts';

let browser: Browser;
beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });

async function openHarness(): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${baseUrl()}/e2e/engine-harness.html`);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

/** Render RGBA pixels into the page so the run leaves a screenshot. */
async function showImage(page: Page, pixels: number[], width: number, height: number, file: string): Promise<void> {
  await page.evaluate(([pixels, width, height]) => {
    const canvas = document.createElement('canvas');
    canvas.width = width; canvas.height = height;
    canvas.style.width = `${width * 4}px`; canvas.style.imageRendering = 'pixelated';
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pixels), width, height), 0, 0);
    document.body.append(canvas);
  }, [pixels, width, height] as const);
  await page.screenshot({ path: artifactPath(file) });
}

for (const ep of ['wasm', 'webgpu'] as const) {
  describe(`generation worker in Chromium on ${ep}`, () => {
    let page: Page;
    beforeAll(async () => {
      page = await openHarness();
      const info = await page.evaluate(async (ep) => {
        const url = new URL('/models/tiny-kandinsky-2-2/', location.href).href;
        return window.engineHarness.api.load({ kind: 'url', baseUrl: url }, { provider: ep });
      }, ep) as Result<BundleInfo>;
      if (!info.ok) throw new Error(`${info.error.code}: ${info.error.message}`);
      expect(info.value.ep).toBe(ep);
    });
    afterAll(async () => { await page?.context().close(); });

    test('text-to-image: deterministic for a seed, with progress', async () => {
      const run = (runId: string) => page.evaluate((runId) => window.engineHarness.generate(runId, {
        mode: 'text2img', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 3, guidance: 4,
        priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 7, numImages: 1,
      }).then((r) => (r.ok ? { ok: true as const, params: r.value.images[0]!.params, pixels: Array.from(r.value.images[0]!.image.data) } : r)), runId);
      const a = await run('t2i-a');
      const b = await run('t2i-b');
      if (!a.ok || !b.ok) throw new Error(JSON.stringify(a.ok ? b : a));
      expect(a.pixels).toHaveLength(64 * 64 * 4);
      expect(a.pixels).toEqual(b.pixels);
      expect(a.params.ep).toBe(ep);
      const stages = await page.evaluate(() => [...new Set(window.engineHarness.progress.map((p) => p.stage))]);
      expect(stages).toEqual(expect.arrayContaining(['prior', 'unet', 'movq_decoder']));
      await showImage(page, a.pixels, 64, 64, `engine-${ep}-text2img.png`);
    });

    test('inpainting runs through the worker and returns the frame size', async () => {
      const r = await page.evaluate(async () => {
        const size = 64;
        const rgba = new Uint8ClampedArray(size * size * 4);
        for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
          const i = (y * size + x) * 4;
          rgba[i] = x * 4; rgba[i + 1] = y * 4; rgba[i + 2] = 128; rgba[i + 3] = 255;
        }
        const mask = new Uint8Array(size * size);
        for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) mask[y * size + x] = 255;
        const res = await window.engineHarness.generate('inpaint', {
          mode: 'inpaint', prompt: 'a hole', negativePrompt: '', width: size, height: size, steps: 3, guidance: 4,
          priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 3, numImages: 1,
          image: { width: size, height: size, data: rgba }, mask: { width: size, height: size, data: mask },
        }) as Result<GenerateResult>;
        if (!res.ok) return res;
        return { ok: true as const, pixels: Array.from(res.value.images[0]!.image.data) };
      });
      if (!r.ok) throw new Error(JSON.stringify(r));
      expect(r.pixels).toHaveLength(64 * 64 * 4);
      await showImage(page, r.pixels, 64, 64, `engine-${ep}-inpaint.png`);
    });

    test('bad input comes back as a typed error and the worker keeps serving', async () => {
      const codes = await page.evaluate(async () => {
        const h = window.engineHarness;
        const bad = await h.generate('bad', {
          mode: 'text2img', prompt: 'x', negativePrompt: '', width: 64, height: 64, steps: Number.NaN, guidance: 4,
          priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 1, numImages: 1,
        });
        const good = await h.generate('good', {
          mode: 'text2img', prompt: 'x', negativePrompt: '', width: 64, height: 64, steps: 1, guidance: 4,
          priorSteps: 2, priorGuidance: 4, scheduler: 'ddpm', seed: 1, numImages: 1,
        });
        return [bad.ok ? 'ok' : bad.error.code, good.ok ? 'ok' : good.error.code];
      });
      expect(codes).toEqual(['BAD_REQUEST', 'ok']);
    });
  });
}
