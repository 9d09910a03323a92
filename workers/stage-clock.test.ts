import { describe, expect, it } from 'vitest';
import { StageClock } from './stage-clock.ts';

describe('StageClock', () => {
  it('charges each interval to the stage reported at its start, sums over images, and ends the last stage on leave', () => {
    const clock = new StageClock(100);
    // Image 1: text encoder 100→110, prior 110→150 (two steps), UNet 150→250, decoder 250→270 (ended by leave).
    clock.enter('text_encoder', 110 - 10);
    clock.enter('prior', 110);
    clock.enter('prior', 130);
    clock.enter('unet', 150);
    clock.enter('movq_decoder', 250);
    clock.leave(270);
    // Between images nothing is charged (270→275); image 2: UNet 275→300, decoder 300→305.
    clock.enter('unet', 275);
    clock.enter('movq_decoder', 300);
    clock.leave(305);
    expect(clock.timings(310)).toEqual({ text_encoder: 10, prior: 40, unet: 125, movq_decoder: 25, total: 210 });
  });

  it('before any event there is only the total', () => {
    expect(new StageClock(5).timings(9)).toEqual({ total: 4 });
  });
});
