import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import {
  DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, SCHEDULER_CLASSES, UnCLIPScheduler, createScheduler,
  validateSteps,
} from './index.ts';
import { LIMITS } from '../protocol.ts';
import { gaussian, readGolden } from './test-support.ts';
import type { SchedulerConfig } from './types.ts';

describe('createScheduler', () => {
  it('builds the class each golden config names', () => {
    const cases = [
      ['prior_g1_s3', UnCLIPScheduler], ['t2i_ddpm_64x64', DDPMScheduler],
      ['t2i_ddim_64x64', DDIMScheduler], ['t2i_dpmpp_64x64', DPMSolverMultistepScheduler],
    ] as const;
    for (const [name, cls] of cases) {
      const g = readGolden(name);
      const s = createScheduler(g.scheduler_config);
      expect(s).toBeInstanceOf(cls);
      expect(s.initNoiseSigma).toBe(1);
      expect(s.timesteps).toEqual([]);
      s.setTimesteps(g.num_inference_steps);
      expect(s.timesteps).toEqual(g.timesteps);
    }
  });

  it("builds every scheduler of the tiny bundle's manifest", () => {
    const url = new URL('../../public/models/tiny-kandinsky-2-2/manifest.json', import.meta.url);
    const m = JSON.parse(readFileSync(url, 'utf8')) as {
      schedulers: Record<string, SchedulerConfig>; scheduler_alternatives: Record<string, SchedulerConfig>;
    };
    const configs = [...Object.values(m.schedulers), ...Object.values(m.scheduler_alternatives)];
    expect(configs.map((c) => c._class_name).sort()).toEqual([...SCHEDULER_CLASSES].sort());
    for (const c of configs) {
      const s = createScheduler(c);
      s.setTimesteps(10);
      expect(s.timesteps).toHaveLength(10);
    }
  });

  it("every step count up to LIMITS.maxSteps (1000, the training timesteps) builds and runs with every scheduler of the manifest", () => {
    const url = new URL('../../public/models/tiny-kandinsky-2-2/manifest.json', import.meta.url);
    const m = JSON.parse(readFileSync(url, 'utf8')) as {
      schedulers: Record<string, SchedulerConfig>; scheduler_alternatives: Record<string, SchedulerConfig>;
    };
    const all = Array.from({ length: LIMITS.maxSteps }, (_, i) => LIMITS.maxSteps - 1 - i);
    for (const c of [...Object.values(m.schedulers), ...Object.values(m.scheduler_alternatives)]) {
      const s = createScheduler(c);
      for (let n = 1; n <= LIMITS.maxSteps; n++) {
        s.setTimesteps(n);
        expect(s.timesteps.length, `${c._class_name} ${n}`).toBe(n);
      }
      // n = T: every training timestep once (leading + steps_offset 1 would need t = 1000).
      expect(s.timesteps, c._class_name).toEqual(all);
      let sample = gaussian(16, 1);
      for (const t of s.timesteps) sample = s.step({ modelOutput: gaussian(16, t + 2), t, sample, noise: () => gaussian(16, t + 5000) }).prevSample;
      expect(sample.every(Number.isFinite), c._class_name).toBe(true);
    }
  });

  it('rejects unknown or missing classes with BAD_MANIFEST, listing the supported ones', () => {
    for (const config of [{ _class_name: 'EulerDiscreteScheduler' }, {}] as SchedulerConfig[]) {
      let error: unknown;
      try {
        createScheduler(config);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe(ErrorCode.BadManifest);
      expect((error as EngineError).message).toContain(
        'expected one of UnCLIPScheduler, DDPMScheduler, DDIMScheduler, DPMSolverMultistepScheduler');
    }
    expect(() => createScheduler({ _class_name: 'EulerDiscreteScheduler' })).toThrow(/"EulerDiscreteScheduler" is not supported/);
    expect(() => createScheduler({})).toThrow(/_class_name is missing/);
  });

  it('passes option errors through as BAD_MANIFEST', () => {
    expect(() => createScheduler({ _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver' }))
      .toThrow(/DPMSolverMultistepScheduler config: algorithm_type is "dpmsolver", expected one of "dpmsolver\+\+"/);
    expect(() => createScheduler({ _class_name: 'UnCLIPScheduler', prediction_type: 'v_prediction' })).toThrow(EngineError);
  });

  it('re-exports validateSteps', () => {
    expect(() => validateSteps(0, 1000)).toThrow(RangeError);
    expect(() => validateSteps(25, 1000)).not.toThrow();
  });
});
