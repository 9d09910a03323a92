/**
 * The real WGSL step in Chromium + SwiftShader (SPEC §5) against the TypeScript schedulers, every scheduler the GPU loops use (decoder and prior)
 * (testing/kernel-cases.ts). No ORT: a Vite dev server serves the page module, the test reads back each step.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDevPage } from '../../e2e/support/dev-page.ts';
import { KERNEL_CASES } from './testing/kernel-cases.ts';

const dev = useDevPage(resolve(import.meta.dirname, '../..'));

describe('the GPU denoising step in Chromium (WGSL on SwiftShader)', () => {
  it('matches the TypeScript schedulers on every case within 1e-5 (SPEC §4 allows 5e-3 per latent on WebGPU)', async () => {
    const page = await dev().browser.newPage();
    await page.goto(`${dev().base}/tools/parity/harness.html`);
    // A string, not a function: vitest would rewrite a function's import() for Node.
    const errors = await page.evaluate(`import('/workers/gpu/testing/kernel-page.ts').then((m) => m.runKernelCases())`) as Record<string, number>;
    expect(Object.keys(errors)).toEqual(KERNEL_CASES.map((c) => c.name));
    for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-5);
  }, 180_000);
});
