/** Run progress maths: overall fraction done and time left, from the engine's progress events. */
import { PROGRESS_STAGES, type Progress, type ProgressStage } from '../../workers/protocol.ts';

/** Rough share of one image's time per stage (the UNet loop dominates); the order is the protocol's PROGRESS_STAGES. */
const STAGE_WEIGHT = {
  text_encoder: 0.03, image_encoder: 0.03, prior: 0.15, movq_encoder: 0.04, unet: 0.65, movq_decoder: 0.1,
} as const satisfies Record<ProgressStage, number>;

/** Fraction of the run done, from the last progress event. */
export function runFraction(p: Progress): number {
  let before = 0;
  for (const s of PROGRESS_STAGES) {
    if (s === p.stage) break;
    before += STAGE_WEIGHT[s];
  }
  const within = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const perImage = Math.min(1, before + STAGE_WEIGHT[p.stage] * within);
  return Math.min(1, (p.image + perImage) / Math.max(1, p.numImages));
}

/** Seconds left, extrapolated from the time so far; null until there is enough to go on. */
export function etaSeconds(p: Progress): number | null {
  const f = runFraction(p);
  if (f < 0.03 || f >= 1) return null;
  return ((p.elapsedMs / 1000) * (1 - f)) / f;
}
