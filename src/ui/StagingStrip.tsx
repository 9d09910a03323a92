/** Staged results over the canvas: cycle, accept (lands as one undo step) or discard. */
import { useApp, useController, useT } from './hooks.ts';
import { Icon } from './icons.tsx';

export function StagingStrip() {
  const c = useController();
  const t = useT();
  const staging = useApp((s) => s.staging);
  if (!staging) return null;
  const n = staging.results.length;
  const current = staging.results[staging.index];
  return (
    <div className="staging" data-testid="staging-strip">
      <button type="button" data-testid="prev-result-button" disabled={n < 2} onClick={() => c.runs.cycle(-1)} title={`${t('previous')} (←)`}><Icon name="left" /></button>
      <span className="staging-title">{t('stagingTitle', { index: staging.index + 1, count: n })}{current ? ` · ${t('seedValue', { seed: current.params.seed })}` : ''}</span>
      <button type="button" data-testid="next-result-button" disabled={n < 2} onClick={() => c.runs.cycle(1)} title={`${t('next')} (→)`}><Icon name="right" /></button>
      <button type="button" className="primary" data-testid="accept-result-button" onClick={() => c.runs.accept()} title="Enter"><Icon name="check" /> {t('accept')}</button>
      <button type="button" data-testid="discard-result-button" onClick={() => c.runs.discard()} title="Esc"><Icon name="close" /> {t('discard')}</button>
    </div>
  );
}
