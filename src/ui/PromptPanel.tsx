/** Right panel: prompt, style, frame, seed and sampler settings, generate/cancel and progress. */
import { LIMITS, SCHEDULER_KINDS, type SchedulerKind } from '../../workers/protocol.ts';
import type { ProviderPreference } from '../../workers/runtime/types.ts';
import { ASPECT_NAMES, type AspectPreset } from '../editor/frame.ts';
import { STYLE_IDS, type StyleId } from '../app/presets.ts';
import type { MessageKey } from '../app/i18n.ts';
import { livePreviewOn, setFieldInvalid, setParams } from '../app/store.ts';
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
  const livePreview = useApp(livePreviewOn);
  const aspect = useEditor((s) => s.aspect);
  const longSide = useEditor((s) => s.longSide);
  const set = (patch: Parameters<typeof setParams>[1]): void => setParams(c.store, patch);
  const sizes = c.frameSizes();
  /** A number field whose invalid text blocks Generate (Runs.generate names it). */
  const numberField = (testId: string, label: MessageKey, value: number, min: number, max: number, onChange: (v: number) => void,
    opts: { integer?: boolean; step?: number; disabled?: boolean } = {}) => {
    const integer = opts.integer ?? true;
    return (
      <NumberField testId={testId} label={t(label)} value={value} min={min} max={max} integer={integer} step={opts.step ?? 1}
        disabled={opts.disabled ?? false} rule={t(integer ? 'fieldWhole' : 'fieldNumber', { min, max })} onChange={onChange}
        onInvalid={(bad) => setFieldInvalid(c.store, testId, bad ? { label, min, max, integer } : null)} />
    );
  };
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
          <select data-testid="aspect-ratio" value={aspect} onChange={(e) => c.editor.setFrameSize(e.target.value as AspectPreset, longSide)}>
            {ASPECT_NAMES.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
        <label className="field">
          <span>{t('size')}</span>
          <select data-testid="size-select" value={longSide} onChange={(e) => c.editor.setFrameSize(aspect, Number(e.target.value))}>
            {!sizes.includes(longSide) && <option value={longSide}>{longSide}</option>}
            {sizes.map((s) => <option key={s} value={s}>{s}px</option>)}
          </select>
        </label>
      </section>

      <section className="row2">
        {numberField('steps-input', 'steps', p.steps, 1, LIMITS.maxSteps, (v) => set({ steps: v }))}
        {numberField('guidance-input', 'guidance', p.guidance, 0, LIMITS.maxGuidance, (v) => set({ guidance: v }), { integer: false, step: 0.5 })}
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
          {numberField('seed-input', 'seed', p.seed, 0, 2 ** 32 - 1, (v) => set({ seed: v }), { disabled: p.randomSeed })}
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
          {/* The prior needs two steps at least (UnCLIP's schedule divides by steps − 1; validate.ts). */}
          {numberField('prior-steps-input', 'priorSteps', p.priorSteps, 2, LIMITS.maxPriorSteps, (v) => set({ priorSteps: v }))}
          {numberField('prior-guidance-input', 'priorGuidance', p.priorGuidance, 0, LIMITS.maxGuidance, (v) => set({ priorGuidance: v }), { integer: false, step: 0.5 })}
        </div>
        <label className="field">
          <span>{t('provider')}</span>
          <select data-testid="provider-select" value={settings.provider} onChange={(e) => void c.model.setProvider(e.target.value as ProviderPreference)}>
            {(['auto', 'webgpu', 'wasm'] as const).map((id) => <option key={id} value={id}>{t(`provider_${id}`)}</option>)}
          </select>
        </label>
        <label className="check">
          <input data-testid="small-frames-checkbox" type="checkbox" checked={settings.smallFrames} onChange={(e) => c.setSmallFrames(e.target.checked)} />
          {t('smallFrames')}
        </label>
        <label className="check">
          <input data-testid="live-preview-checkbox" type="checkbox" checked={livePreview} onChange={(e) => c.setLivePreview(e.target.checked)} />
          {t('livePreview')}
        </label>
      </details>
      </div>

      <section className="actions">
        <ModeStatus><div className={`mode mode-${frameMode}`} data-testid="frame-mode" data-mode={frameMode}>{t(`mode_${frameMode}`)}</div></ModeStatus>
        <div className="buttons">
          <button type="button" className="primary" data-testid="generate-button" disabled={run !== null || staged} onClick={() => void c.runs.generate()} title="Ctrl+Enter">
            {t('generate')}
          </button>
          <button type="button" data-testid="cancel-button" disabled={run === null || run.cancelling} onClick={() => c.runs.cancel()} title="Esc">
            {t('cancel')}
          </button>
        </div>
        {run && <ProgressView />}
      </section>
    </aside>
  );
}
