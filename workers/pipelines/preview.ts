/**
 * Live previews (issue 9 item 2, "an optional low-frequency preview"): now and then during the UNet loop, the
 * scheduler's current estimate of the clean latents (x̂_0, predOriginalSample) goes through the model's own MoVQ
 * decoder, so a preview is exactly the image the run would give if x̂_0 were final. A linear latent → RGB map (the
 * cheap previews of other front ends) was tried first and dropped: on the built-in model even the best linear map,
 * fitted on its own generated latents, was further from the decoded images than each image's flat mean colour
 * (README "Live previews"). A decode costs something, so previews are paced: at most every `every` steps, and only
 * while they have taken at most `maxShare` of the loop's time (PREVIEW_MAX_SHARE in protocol.ts by default).
 */
import type { F32Tensor } from '../tensor/tensor.ts';

/** Where a run's previews go (PipelineContext.preview): the pacing, and the decoded x̂_0 [1,3,H,W] in about [-1, 1]. */
export interface PreviewSink {
  readonly every: number;
  /** 1: no time limit (tests); below 1: previews take at most this share of the loop's time. */
  readonly maxShare: number;
  show(image: F32Tensor, step: number, total: number): Promise<void>;
}

/**
 * Which steps end with a preview: every `every` steps, never after the last (the result follows), and only while
 * the previews so far plus one more stay within `maxShare` of the time since the loop began. One more is costed at
 * the last preview's time, or before the first at the mean step's (a MoVQ decode costs about one to a few UNet steps),
 * so the first preview waits until the loop has run long enough to pay for it.
 */
export class PreviewPacer {
  private spent = 0;
  private last = 0;

  constructor(private readonly sink: Pick<PreviewSink, 'every' | 'maxShare'>, private readonly started: number) {}

  /** True when step i (0-based) of `total`, ending at time `now` (ms), should end with a preview. */
  due(i: number, total: number, now: number): boolean {
    const { every, maxShare } = this.sink;
    if (every < 1 || i + 1 >= total || (i + 1) % every !== 0) return false;
    const elapsed = now - this.started;
    const next = this.last > 0 ? this.last : elapsed / (i + 1);
    return maxShare >= 1 || this.spent + next <= maxShare * elapsed;
  }

  /** A preview took `ms`. */
  took(ms: number): void {
    this.spent += ms;
    this.last = ms;
  }
}
