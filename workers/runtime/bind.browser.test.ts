/**
 * Bound stages (GpuStageRunner.bind, issue 9 item 3) in Chromium on the native WebGPU EP over SwiftShader: with graph
 * capture every run after the first replays the captured commands, with no writeBuffer or upload of ORT's own, and
 * computes what a host run of the same graph computes; the binding's life (same shapes, other shapes, a host run).
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useDevPage } from '../../e2e/support/dev-page.ts';
import type { runBindCases } from './testing/bind-page.ts';

const dev = useDevPage(resolve(import.meta.dirname, '../..'));

type Result = Awaited<ReturnType<typeof runBindCases>>;
async function run(page: Page, capture: boolean): Promise<Result> {
  await page.goto(`${dev().base}/tools/parity/harness.html`);
  // A string, not a function: vitest would rewrite a function's import() for Node.
  return await page.evaluate(`import('/workers/runtime/testing/bind-page.ts').then((m) => m.runBindCases('${dev().base}/models/tiny-kandinsky-2-2/', ${capture}))`) as Result;
}

// SPEC §4's WebGPU tolerances: the UNet's output against its host run as latents (5e-3), the prior's as an embedding
// (1e-3 × max(1, max|ref|)). Both sides run the same graph on the same EP; the bound session's shapes are static, so
// ORT may fuse differently (measured: UNet 0 to 1e-6, prior 1.7e-5).
const LATENTS = 5e-3;
const EMBEDDING = 1e-3;

describe('bound stages on the native WebGPU EP (Chromium + SwiftShader)', () => {
  it('with graph capture: replays write nothing from the host, match host runs, and keep their output buffer', async () => {
    const r = await run(await dev().browser.newPage(), true);
    expect(r.captured).toBe(true);
    expect(r.sameBinding).toBe(true);
    expect(r.runs).toHaveLength(3);
    console.log(`bound UNet vs host run: ${r.runs.map((x) => x.diff.toExponential(1)).join(', ')}; prior ${r.priorDiff.toExponential(1)}`);
    for (const x of r.runs) expect(x.diff).toBeLessThan(LATENTS);
    // The first run records (ORT writes its uniforms); every later one replays.
    expect(r.runs[0]!.writeBuffers).toBeGreaterThan(100);
    for (const x of r.runs.slice(1)) expect({ writeBuffers: x.writeBuffers, uploads: x.uploads, readBacks: x.readBacks, same: x.sameOutput }).toEqual({ writeBuffers: 0, uploads: 0, readBacks: 0, same: true });
    expect(r.afterRebind).toBe('INTERNAL');
    expect(r.afterHostRun).toBe('INTERNAL');
    expect(r.badShape).toBe('INTERNAL');
    expect(r.priorCaptured).toBe(true);
    expect(r.priorDiff).toBeLessThan(EMBEDDING * r.priorScale);
    console.log(`prior with another mask: ${r.priorMaskDiff.toExponential(1)} from its host run (the masks change the output by ${r.masksDiffer.toExponential(1)})`);
    expect(r.masksDiffer).toBeGreaterThan(10 * EMBEDDING * r.priorScale);
    expect(r.priorMaskDiff).toBeLessThan(EMBEDDING * r.priorScale);
    expect(r.priorBatch1Diff).toBeLessThan(EMBEDDING * r.priorScale);
    // Under capture every input stays on the GPU (nothing is read back there): a host list is ignored.
    expect(r.hostFed.hostInputs).toEqual([]);
    expect(r.hostFed.readBacks).toBe(0);
    expect(r.hostFed.diff).toBeLessThan(EMBEDDING * r.priorScale);
  }, 300_000);

  it('without graph capture: the ordinary session on the bound buffers, the same results, ORT writing its uniforms on every run', async () => {
    const r = await run(await dev().browser.newPage(), false);
    expect(r.captured).toBe(false);
    for (const x of r.runs) {
      expect(x.diff).toBeLessThan(LATENTS);
      expect(x.writeBuffers).toBeGreaterThan(100);
      expect({ readBacks: x.readBacks, same: x.sameOutput }).toEqual({ readBacks: 0, same: true });
    }
    expect([r.afterRebind, r.afterHostRun, r.badShape]).toEqual(['INTERNAL', 'INTERNAL', 'INTERNAL']);
    expect(r.priorDiff).toBeLessThan(EMBEDDING * r.priorScale);
    expect(r.priorMaskDiff).toBeLessThan(EMBEDDING * r.priorScale);
    expect(r.priorBatch1Diff).toBeLessThan(EMBEDDING * r.priorScale);
    // ORT reads the prior's timestep and mask on the CPU: in GPU buffers they come back every run; fed from the host
    // they do not, and the results are the same (another mask included). A run without a host input is refused.
    console.log(`prior read-backs per run: bound inputs ${r.priorReadBacks}, timestep and mask from the host ${r.hostFed.readBacks}`);
    expect(r.priorReadBacks).toBe(2);
    expect(r.hostFed.hostInputs.sort()).toEqual(['attention_mask', 'timestep']);
    expect(r.hostFed.inputs).toEqual(['encoder_hidden_states', 'hidden_states', 'proj_embedding']);
    expect(r.hostFed.readBacks).toBe(0);
    expect(r.hostFed.diff).toBeLessThan(EMBEDDING * r.priorScale);
    expect(r.hostFed.maskDiff).toBeLessThan(EMBEDDING * r.priorScale);
    expect(r.hostFed.missingHostInput).toBe('INTERNAL');
  }, 300_000);
});
