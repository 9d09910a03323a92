import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEDULER_KINDS, SCHEDULER_KIND_CLASSES, createScheduler, decoderConfigFor } from './index.ts';
import type { SchedulerConfig } from './types.ts';

const manifest = (dir: string) => JSON.parse(readFileSync(new URL(`../../public/models/${dir}/manifest.json`, import.meta.url), 'utf8')) as {
  schedulers: { decoder: SchedulerConfig }; scheduler_alternatives: Record<string, SchedulerConfig>;
};

describe('decoderConfigFor: the kinds and their configs', () => {
  it('returns the bundle\'s own decoder when it already is the kind: 2.1\'s DDIM, 2.2\'s DDPM', () => {
    const k21 = manifest('tiny-kandinsky-2-1');
    expect(decoderConfigFor(k21.schedulers.decoder, k21.scheduler_alternatives, 'ddim')).toBe(k21.schedulers.decoder);
    expect(decoderConfigFor(k21.schedulers.decoder, k21.scheduler_alternatives, 'dpmpp_2m')).toBe(k21.scheduler_alternatives.dpmpp_2m);
    const k22 = manifest('tiny-kandinsky-2-2');
    expect(decoderConfigFor(k22.schedulers.decoder, k22.scheduler_alternatives, 'ddpm')).toBe(k22.schedulers.decoder);
    expect(decoderConfigFor(k22.schedulers.decoder, k22.scheduler_alternatives, 'ddim')).toBe(k22.scheduler_alternatives.ddim);
  });

  it('every kind builds its class from either bundle', () => {
    for (const dir of ['tiny-kandinsky-2-1', 'tiny-kandinsky-2-2']) {
      const m = manifest(dir);
      for (const kind of SCHEDULER_KINDS) {
        const config = decoderConfigFor(m.schedulers.decoder, m.scheduler_alternatives, kind);
        expect(config._class_name, `${dir} ${kind}`).toBe(SCHEDULER_KIND_CLASSES[kind]);
        createScheduler(config).setTimesteps(10);
      }
    }
  });

  it('a DPM-Solver decoder of another algorithm or order is not dpmpp_2m: the kind is re-derived', () => {
    const dpm: SchedulerConfig = { _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver++', solver_order: 3 };
    const derived = decoderConfigFor(dpm, undefined, 'dpmpp_2m');
    expect(derived).not.toBe(dpm);
    expect(derived).toMatchObject({ algorithm_type: 'dpmsolver++', solver_order: 2 });
  });
});
