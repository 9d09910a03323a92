/**
 * The parity core on the tiny Kandinsky 2.1 bundle (wasm): a 2.1 case passes, a case of another family fails
 * naming both, and SPEC §4's image allowance applies only when every other quantity passes and the image error
 * is below the decoder's measured sensitivity. Tolerances are scaled down here only to provoke the allowance.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDirBlobs } from '../../workers/testing/bundle-dir.ts';
import { TINY_21_BUNDLE_DIR } from '../../workers/testing/tiny-bundle.ts';
import type { Engine } from '../../workers/engine.ts';
import { formatCase, runGoldenCase, type ParityEnv } from './core.ts';
import { loadParityEnv } from './env.ts';

const golden = (path: string): Record<string, any> => JSON.parse(readFileSync(new URL(`../../tests/${path}`, import.meta.url), 'utf8'));

describe('parity core, Kandinsky 2.1', () => {
  let env: ParityEnv;
  let engine: Engine;
  beforeAll(async () => {
    ({ env, engine } = await loadParityEnv({ kind: 'files', files: await bundleDirBlobs(TINY_21_BUNDLE_DIR) }, 'wasm'));
  });
  afterAll(async () => { await engine.dispose(); });

  it('checks the decoder text and latent_timestep of a 2.1 img2img case', async () => {
    const r = await runGoldenCase('img2img_ddim', golden('golden-2-1/img2img_ddim.json'), env);
    expect(r.pass).toBe(true);
    expect(r.measurements.map((m) => m.what)).toEqual(expect.arrayContaining(['prompt_embeds', 'text_encoder_hidden_states', 'latent_timestep']));
  });

  it('a 2.2 case on a 2.1 bundle fails naming both families', async () => {
    const r = await runGoldenCase('t2i', golden('golden/t2i_ddim_64x64.json'), env);
    expect(r.pass).toBe(false);
    expect(r.error).toBe('a kandinsky-2.2 case, but the bundle is kandinsky-2.1');
  });

  it('the image allowance: below the decoder\'s sensitivity passes with a note; a wrong image or a latents failure does not', async () => {
    const g = golden('golden-2-1/t2i_ddpm_w96_h64.json');
    const scaled = { ...env, toleranceScale: 0.07 }; // image tolerance 3.5e-4 < the measured 3.8e-4; latents still pass
    const allowed = await runGoldenCase('t2i', g, scaled);
    expect(allowed.pass).toBe(true);
    expect(formatCase(allowed)).toMatch(/PASS {2}# image: within the decoder's sensitivity \(its image moves \S+ under the latents error \S+\)$/);
    // An image off by 0.5 is beyond any sensitivity.
    const image = Uint8Array.from(atob(g.image.b64), (c) => c.charCodeAt(0));
    const f = new Float32Array(image.buffer);
    f[0] = f[0]! + 0.5;
    const wrong = await runGoldenCase('t2i', { ...g, image: { ...g.image, b64: Buffer.from(f.buffer).toString('base64') } }, env);
    expect(wrong.pass).toBe(false);
    expect(wrong.worst.what).toBe('image');
    // With latents failing as well (tolerances scaled further), no allowance.
    const strict = await runGoldenCase('t2i', g, { ...env, toleranceScale: 0.01 });
    expect(strict.pass).toBe(false);
    expect(strict.measurements.some((m) => m.what.startsWith('image: within'))).toBe(false);
  });
});
