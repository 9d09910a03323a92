/** Progress of the running generation: bar, stage, step/total, image index and ETA. */
import { etaSeconds, runFraction } from '../app/progress.ts';
import { useApp, useT } from './hooks.ts';


export function ProgressView() {
  const t = useT();
  const fmt = (s: number): string => (s >= 60 ? t('minutesSeconds', { m: Math.floor(s / 60), s: Math.round(s % 60) }) : t('seconds', { s: Math.max(1, Math.round(s)) }));
  const run = useApp((s) => s.run);
  if (!run) return null;
  const p = run.progress;
  const f = p ? runFraction(p) : 0;
  const eta = p ? etaSeconds(p) : null;
  return (
    <div className="progress" data-testid="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(f * 100)}>
      <div className="bar"><div className="fill" style={{ width: `${Math.round(f * 100)}%` }} /></div>
      <div className="progress-text">
        {p ? (
          <>
            <span data-testid="progress-stage" data-stage={p.stage} data-step={p.step}>{t('progressStage', { stage: t(`stage_${p.stage}`), step: p.step, total: p.total })}</span>
            {p.numImages > 1 && <span>{t('progressImage', { image: p.image + 1, count: p.numImages })}</span>}
            {eta !== null && <span>{t('eta', { time: fmt(eta) })}</span>}
          </>
        ) : <span>…</span>}
      </div>
    </div>
  );
}
