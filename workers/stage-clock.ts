/** Where a run's time goes: milliseconds per stage, from progress events (GenerateResult.timings). */
import type { ProgressStage, StageTimings } from './protocol.ts';

/**
 * Charges wall time to the stage last entered. Pipelines report a stage as it starts (a single-shot stage's step 0,
 * each loop step), so the time from one report to the next is the reported stage's; what follows the last report
 * of an image (the MoVQ decode) is charged on `leave`. Live previews fall within the UNet loop and count to it.
 */
export class StageClock {
  private readonly spent: Partial<Record<ProgressStage, number>> = {};
  private current: ProgressStage | null = null;
  private mark: number;

  constructor(private readonly started: number) {
    this.mark = started;
  }

  /** A progress event of `stage` at time `now` (ms). */
  enter(stage: ProgressStage, now: number): void {
    this.charge(now);
    this.current = stage;
  }

  /** The image is done at `now`: its last stage ends. */
  leave(now: number): void {
    this.charge(now);
    this.current = null;
  }

  /** The durations so far, summed over images, and the whole run's wall time up to `now`. */
  timings(now: number): StageTimings {
    return { ...this.spent, total: now - this.started };
  }

  private charge(now: number): void {
    if (this.current !== null) this.spent[this.current] = (this.spent[this.current] ?? 0) + (now - this.mark);
    this.mark = now;
  }
}
