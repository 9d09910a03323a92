/** Progress of the running generation: bar, stage, step/total, image index and ETA. */
import type { Progress } from '../../workers/protocol.ts';
import { useApp, useT } from './hooks.ts';

/** Rough share of one image's time per stage (the UNet loop dominates). */
const STAGE_WEIGHT = { load: 0.02, text_encoder: 0.02, image_encoder: 0.02, prior: 0.15, movq_encoder: 0.04, unet: 0.65, movq_decoder: 0.1 } as const;
const STAGE_ORDER = ['load', 'text_encoder', 'image_encoder', 'prior', 'movq_encoder', 'unet', 'movq_decoder'] as const;

/** Fraction of the run done, from the last progress event. */
export function runFraction(p: Progress): number {
  let before = 0;
  for (const s of STAGE_ORDER) {
    if (s === p.stage) break;
    before += STAGE_WEIGHT[s];
  }
  const within = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const perImage = Math.min(1, before + STAGE_WEIGHT[p.stage] * within);
  return Math.min(1, (p.image + perImage) / Math.max(1, p.numImages));
}

const fmt = (s: number): string => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.max(1, Math.round(s))} s`);

export function ProgressView() {
  const t = useT();
  const run = useApp((s) => s.run);
  if (!run) return null;
  const p = run.progress;
  const f = p ? runFraction(p) : 0;
  const eta = p && f > 0.03 ? (p.elapsedMs / 1000) * (1 - f) / f : null;
  return (
    <div className="progress" data-testid="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(f * 100)}>
      <div className="bar"><div className="fill" style={{ width: `${Math.round(f * 100)}%` }} /></div>
      <div className="progress-text">
        {p ? (
          <>
            <span data-testid="progress-stage">{t('progressStage', { stage: t(`stage_${p.stage}`), step: p.step, total: p.total })}</span>
            {p.numImages > 1 && <span>{t('progressImage', { image: p.image + 1, count: p.numImages })}</span>}
            {eta !== null && <span>{t('eta', { time: fmt(eta) })}</span>}
          </>
        ) : <span>…</span>}
      </div>
    </div>
  );
}
