import { describe, expect, it } from 'vitest';
import type { Progress } from '../../workers/protocol.ts';
import { etaSeconds, runFraction } from './progress.ts';

const p = (over: Partial<Progress>): Progress => ({ runId: 'r', stage: 'unet', step: 0, total: 10, image: 0, numImages: 1, elapsedMs: 1000, ...over });

describe('progress', () => {
  it('grows through the stages and the images, ending at 1', () => {
    const seq = [
      p({ stage: 'text_encoder', step: 1, total: 1 }), p({ stage: 'prior', step: 1, total: 2 }), p({ stage: 'prior', step: 2, total: 2 }),
      p({ stage: 'unet', step: 5 }), p({ stage: 'unet', step: 10 }), p({ stage: 'movq_decoder', step: 1, total: 1 }),
    ].map(runFraction);
    for (let i = 1; i < seq.length; i++) expect(seq[i]).toBeGreaterThan(seq[i - 1] ?? 0);
    expect(seq.at(-1)).toBeCloseTo(1, 6);
    expect(runFraction(p({ image: 1, numImages: 2, stage: 'text_encoder', step: 0 }))).toBeCloseTo(0.5, 2);
  });

  it('ETA extrapolates elapsed time, and stays null at the very start', () => {
    expect(etaSeconds(p({ stage: 'text_encoder', step: 0, total: 1 }))).toBeNull();
    const half = p({ image: 1, numImages: 2, stage: 'text_encoder', step: 0, elapsedMs: 10_000 });
    expect(etaSeconds(half)).toBeCloseTo(10 * (1 - runFraction(half)) / runFraction(half), 6);
  });
});
