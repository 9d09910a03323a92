/** Right panel: prompt, style, frame, seed and sampler settings, generate/cancel and progress. */
import { LIMITS, SCHEDULER_KINDS, type SchedulerKind } from '../../workers/protocol.ts';
import type { ProviderPreference } from '../../workers/runtime/types.ts';
import { ASPECT_NAMES, type AspectPreset } from '../editor/frame.ts';
import { STYLE_IDS, type StyleId } from '../app/presets.ts';
import { setParams } from '../app/store.ts';
import { NumberField } from './NumberField.tsx';
import { ProgressView } from './ProgressView.tsx';
import { useApp, useController, useEditor, useT } from './hooks.ts';
import { ModePanel, ModeStatus } from '../modes/ModePanel.tsx';
import { PriorSection } from '../priors/PriorPanel.tsx';

export function PromptPanel() {
  const c = useController();
  const t = useT();
  const p = useApp((s) => s.params);
  const lastSeed = useApp((s) => s.lastSeed);
  const run = useApp((s) => s.run);
  const staged = useApp((s) => s.staging !== null);
  const frameMode = useApp((s) => s.frameMode);
  const settings = useApp((s) => s.settings);
  const aspect = useEditor((s) => s.aspect);
  const longSide = useEditor((s) => s.longSide);
  const set = (patch: Parameters<typeof setParams>[1]): void => setParams(c.store, patch);
  const sizes = c.frameSizes();
  return (
    <aside className="panel">
      <div className="scroll">
      <ModePanel />
      <section>
        <label className="field">
          <span>{t('prompt')}</span>
          <textarea data-testid="prompt-input" rows={4} value={p.prompt} placeholder={t('promptPlaceholder')}
            maxLength={LIMITS.maxPromptChars} onChange={(e) => set({ prompt: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('negativePrompt')}</span>
          <textarea data-testid="negative-prompt-input" rows={2} value={p.negativePrompt} placeholder={t('negativePlaceholder')}
            onChange={(e) => set({ negativePrompt: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('style')}</span>
          <select data-testid="style-select" value={p.style} onChange={(e) => set({ style: e.target.value as StyleId })}>
            {STYLE_IDS.map((id) => <option key={id} value={id}>{t(`style_${id}`)}</option>)}
          </select>
        </label>
      </section>
      <PriorSection />

      <section className="row2">
        <label className="field">
          <span>{t('aspect')}</span>
          <select data-testid="aspect-ratio" value={aspect} onChange={(e) => c.setFrameSize(e.target.value as AspectPreset, longSide)}>
            {ASPECT_NAMES.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
        <label className="field">
          <span>{t('size')}</span>
          <select data-testid="size-select" value={longSide} onChange={(e) => c.setFrameSize(aspect, Number(e.target.value))}>
            {!sizes.includes(longSide) && <option value={longSide}>{longSide}</option>}
            {sizes.map((s) => <option key={s} value={s}>{s}px</option>)}
          </select>
        </label>
      </section>

      <section className="row2">
        <NumberField testId="steps-input" label={t('steps')} value={p.steps} min={1} max={LIMITS.maxSteps} onChange={(v) => set({ steps: v })} />
        <NumberField testId="guidance-input" label={t('guidance')} value={p.guidance} min={0} max={LIMITS.maxGuidance} step={0.5} integer={false} onChange={(v) => set({ guidance: v })} />
        <label className="field">
          <span>{t('scheduler')}</span>
          <select data-testid="scheduler-select" value={p.scheduler} onChange={(e) => set({ scheduler: e.target.value as SchedulerKind })}>
            {SCHEDULER_KINDS.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label className="field">
          <span>{t('images')}</span>
          <select data-testid="num-images-select" value={p.numImages} onChange={(e) => set({ numImages: Number(e.target.value) })}>
            {[1, 2, 3, 4].map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
      </section>

      <section>
        <div className="seed">
          <NumberField testId="seed-input" label={t('seed')} value={p.seed} min={0} max={2 ** 32 - 1} disabled={p.randomSeed} onChange={(v) => set({ seed: v })} />
          <label className="check">
            <input data-testid="random-seed-checkbox" type="checkbox" checked={p.randomSeed} onChange={(e) => set({ randomSeed: e.target.checked })} />
            {t('randomSeed')}
          </label>
        </div>
        {lastSeed !== null && (
          <div className="used-seed">
            <span data-testid="used-seed">{t('usedSeed', { seed: lastSeed })}</span>
            {p.randomSeed && <button type="button" className="link" onClick={() => set({ randomSeed: false, seed: lastSeed })}>{t('keepSeed')}</button>}
          </div>
        )}
      </section>

      <details className="advanced">
        <summary>{t('advanced')}</summary>
        <div className="row2">
          <NumberField testId="prior-steps-input" label={t('priorSteps')} value={p.priorSteps} min={1} max={LIMITS.maxPriorSteps} onChange={(v) => set({ priorSteps: v })} />
          <NumberField testId="prior-guidance-input" label={t('priorGuidance')} value={p.priorGuidance} min={0} max={LIMITS.maxGuidance} step={0.5} integer={false} onChange={(v) => set({ priorGuidance: v })} />
        </div>
        <label className="field">
          <span>{t('provider')}</span>
          <select data-testid="provider-select" value={settings.provider} onChange={(e) => void c.setProvider(e.target.value as ProviderPreference)}>
            {(['auto', 'webgpu', 'wasm'] as const).map((id) => <option key={id} value={id}>{t(`provider_${id}`)}</option>)}
          </select>
        </label>
        <label className="check">
          <input data-testid="small-frames-checkbox" type="checkbox" checked={settings.smallFrames} onChange={(e) => c.setSmallFrames(e.target.checked)} />
          {t('smallFrames')}
        </label>
      </details>
      </div>

      <section className="actions">
        <ModeStatus><div className={`mode mode-${frameMode}`} data-testid="frame-mode" data-mode={frameMode}>{t(`mode_${frameMode}`)}</div></ModeStatus>
        <div className="buttons">
          <button type="button" className="primary" data-testid="generate-button" disabled={run !== null || staged} onClick={() => void c.generate()} title="Ctrl+Enter">
            {t('generate')}
          </button>
          <button type="button" data-testid="cancel-button" disabled={run === null || run.cancelling} onClick={() => c.cancel()} title="Esc">
            {t('cancel')}
          </button>
        </div>
        {run && <ProgressView />}
      </section>
    </aside>
  );
}
