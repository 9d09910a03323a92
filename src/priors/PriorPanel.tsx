/** The prompt panel's prior section (kind, linear prior, blend weight) and the fit dialog. Thin: logic lives in priors.ts. */
import { useStore } from 'zustand';
import { MIN_FIT_IMAGES, PRIOR_KINDS } from '../../workers/protocol.ts';
import { useApp, useController } from '../ui/hooks.ts';
import { tp, type PriorsKey } from './i18n.ts';
import { priorsFor } from './install.ts';
import type { PriorsController, PriorsState } from './priors.ts';
import type { SavedPriorChoice } from './store.ts';
import './priors.css';

type T = (key: PriorsKey, vars?: Readonly<Record<string, string | number>>) => string;

function useTp(): T {
  const lang = useApp((s) => s.language);
  return (key, vars) => tp(lang, key, vars);
}

function usePriors<U>(p: PriorsController, selector: (s: PriorsState) => U): U {
  return useStore(p.store, selector);
}

/** The prior section of the prompt panel (renders nothing when the priors are not installed). */
export function PriorSection() {
  const p = priorsFor(useController());
  return p ? <Section p={p} /> : null;
}

function Section({ p }: { p: PriorsController }) {
  const t = useTp();
  const choice = usePriors(p, (s) => s.choice);
  const priors = usePriors(p, (s) => s.priors);
  const open = usePriors(p, (s) => s.dialogOpen);
  const bundlePrior = useApp((s) => (s.model.status === 'ready' ? s.model.info.linearPrior ?? null : null));
  const needsLinear = choice.kind === 'linear' || choice.kind === 'blend';
  return (
    <section data-testid="prior-section">
      <label className="field">
        <span>{t('prior')}</span>
        <select data-testid="prior-kind-select" value={choice.kind} onChange={(e) => p.choose({ kind: e.target.value as SavedPriorChoice['kind'] })}>
          {PRIOR_KINDS.map((k) => <option key={k} value={k}>{t(`kind_${k}`)}</option>)}
        </select>
      </label>
      <p className="pr-hint">{t(`hint_${choice.kind}`)}</p>
      {needsLinear && (bundlePrior === null && priors.length === 0
        ? <p className="pr-hint" data-testid="prior-none-yet">{t('noLinear')}</p>
        : (
          <label className="field">
            <span>{t('linearSource')}</span>
            <select data-testid="prior-linear-select" value={choice.linear ?? ''} onChange={(e) => p.choose({ linear: e.target.value })}>
              {bundlePrior && <option value="bundle">{t('source_bundle', { name: bundlePrior.name })}</option>}
              {priors.map((x) => <option key={x.id} value={x.id}>{x.header.name}</option>)}
            </select>
          </label>
        ))}
      {choice.kind === 'blend' && (
        <label className="field">
          <span>{t('linearWeight')} {choice.linearWeight.toFixed(2)}</span>
          <input data-testid="prior-blend-weight" type="range" min={0} max={1} step={0.05} value={choice.linearWeight}
            onChange={(e) => p.choose({ linearWeight: Number(e.target.value) })} />
        </label>
      )}
      <button type="button" data-testid="prior-fit-open" onClick={() => p.open()}>{t('fitOpen')}</button>
      {open && <FitDialog p={p} />}
    </section>
  );
}

function FitDialog({ p }: { p: PriorsController }) {
  const t = useTp();
  const s = usePriors(p, (x) => x);
  const galleryCount = useApp((x) => x.gallery.length);
  const running = s.fit.status === 'running';
  const progress = s.fit.status === 'running' ? s.fit.progress : null;
  const files = (list: FileList | null): void => { if (list) void p.addFiles([...list]); };
  return (
    <div className="pr-backdrop" onClick={(e) => { if (e.target === e.currentTarget && !running) p.close(); }}>
      <section className="pr-dialog" role="dialog" aria-label={t('fitTitle')} data-testid="prior-dialog">
        <div className="pr-head">
          <h2>{t('fitTitle')}</h2>
          <button type="button" data-testid="prior-dialog-close" onClick={() => p.close()}>{t('close')}</button>
        </div>
        <div className="pr-scroll">
          <p className="pr-hint">{t('fitIntro')}</p>
          <div className="pr-row">
            <label className="button-like">
              <span>{t('fromFiles')}</span>
              <input className="pr-hidden" data-testid="prior-files-input" type="file" accept="image/*" multiple disabled={running}
                onChange={(e) => { files(e.target.files); e.target.value = ''; }} />
            </label>
            <label className="button-like">
              <span>{t('fromFolder')}</span>
              <input className="pr-hidden" data-testid="prior-folder-input" type="file" multiple disabled={running}
                ref={(el) => { el?.setAttribute('webkitdirectory', ''); }}
                onChange={(e) => { files(e.target.files); e.target.value = ''; }} />
            </label>
            <button type="button" data-testid="prior-gallery-add" disabled={running || galleryCount === 0} onClick={() => void p.addGallery()}>
              {t('fromGallery', { count: galleryCount })}
            </button>
            <button type="button" data-testid="prior-images-clear" disabled={running || s.images.length === 0} onClick={() => p.clearImages()}>{t('clearImages')}</button>
          </div>
          <div data-testid="prior-image-count" data-count={s.images.length}>{t('imageCount', { count: s.images.length, min: MIN_FIT_IMAGES })}</div>
          {s.images.length > 0 && <ol className="pr-files">{s.images.map((i, k) => <li key={`${k}-${i.id}`}>{i.name}</li>)}</ol>}
          <label className="field">
            <span>{t('captionMode')}</span>
            <select data-testid="prior-caption-mode" value={s.captionMode} disabled={running}
              onChange={(e) => p.edit({ captionMode: e.target.value as PriorsState['captionMode'] })}>
              <option value="shared">{t('caption_shared')}</option>
              <option value="per-image">{t('caption_per_image')}</option>
            </select>
          </label>
          {s.captionMode === 'shared'
            ? (
              <label className="field">
                <span>{t('sharedCaption')}</span>
                <input data-testid="prior-shared-caption" value={s.sharedCaption} placeholder={t('sharedPlaceholder')} disabled={running}
                  onChange={(e) => p.edit({ sharedCaption: e.target.value })} />
              </label>
            )
            : (
              <label className="field">
                <span>{t('captions')}</span>
                <textarea data-testid="prior-captions" rows={5} value={s.captions} disabled={running} onChange={(e) => p.edit({ captions: e.target.value })} />
              </label>
            )}
          <label className="field">
            <span>{t('name')}</span>
            <input data-testid="prior-name" value={s.name} placeholder={t('namePlaceholder')} disabled={running} onChange={(e) => p.edit({ name: e.target.value })} />
          </label>
          <div className="pr-row">
            <button type="button" className="primary" data-testid="prior-fit-button" disabled={running} onClick={() => void p.fit()}>{t('fit')}</button>
            <button type="button" data-testid="prior-fit-cancel" disabled={!running} onClick={() => p.cancelFit()}>{t('cancelFit')}</button>
          </div>
          {running && (
            <div data-testid="prior-progress" data-phase={progress?.phase ?? ''} data-step={progress?.step ?? 0} data-total={progress?.total ?? 0}>
              <progress max={progress?.total ?? 1} value={progress?.step ?? 0} />
              <div className="pr-hint">{progress ? t(`phase_${progress.phase}`, { step: progress.step, total: progress.total }) : '…'}</div>
            </div>
          )}
          {s.message && (
            <div className={`pr-message ${s.message.kind}`} data-testid="prior-message" data-key={s.message.key} data-kind={s.message.kind}>
              {t(s.message.key, s.message.vars)}
            </div>
          )}
          <h3>{t('myPriors')}</h3>
          <div className="pr-list" data-testid="prior-list">
            {s.priors.map((x) => (
              <div className="pr-item" key={x.id} data-testid="prior-row" data-id={x.id} data-name={x.header.name}>
                <span title={x.header.name}>{x.header.name} · {x.header.num_images ?? '?'} · {x.header.loo_error === undefined ? '' : `LOO ${x.header.loo_error.toPrecision(3)}`}</span>
                <button type="button" data-testid="prior-export" onClick={() => p.exportPrior(x.id)}>{t('export')}</button>
                <button type="button" data-testid="prior-delete" disabled={running} onClick={() => void p.remove(x.id)}>{t('delete')}</button>
              </div>
            ))}
          </div>
          <label className="button-like">
            <span>{t('import')}</span>
            <input className="pr-hidden" data-testid="prior-import-input" type="file" accept=".kwlp,application/octet-stream"
              onChange={(e) => { const f = e.target.files?.[0]; if (f) void p.importFile(f); e.target.value = ''; }} />
          </label>
        </div>
      </section>
    </div>
  );
}
