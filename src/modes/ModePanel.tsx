/** The image modes' panel (mode selector, input images and texts, weights, strength, crop previews) and status line. Thin: logic lives in modes.ts and request.ts. */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { GalleryItem } from '../app/store.ts';
import { useApp, useController, useEditor } from '../ui/hooks.ts';
import { aspectLabel, type CropRect } from './crop.ts';
import { tm, type ModesKey } from './i18n.ts';
import { modesFor } from './install.ts';
import type { ModesController } from './modes.ts';
import { activeInputs, checkInputs, missingForImages, missingStages, previewFor } from './request.ts';
import { EDITOR_MODES, STRENGTH, WEIGHTS, type EditorMode, type ImageRef, type Problem } from './state.ts';
import './modes.css';

type T = (key: ModesKey, vars?: Readonly<Record<string, string | number>>) => string;

function useTm(): T {
  const lang = useApp((s) => s.language);
  return (key, vars) => tm(lang, key, vars);
}

/** A problem's text, with mode ids translated. */
function say(t: T, p: Problem): string {
  const vars = { ...(p.vars ?? {}) };
  if (typeof vars.mode === 'string' && (EDITOR_MODES as readonly string[]).includes(vars.mode)) vars.mode = t(`mode_${vars.mode as EditorMode}`);
  return t(p.key, vars);
}

/** The input image, scaled into a small box, with everything outside the part the model sees dimmed. */
function CropThumb({ m, image, crop, testId }: { m: ModesController; image: ImageRef; crop: CropRect; testId: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  // Fit into 96×64 so that wide and tall images stay large enough to see the crop on.
  const scale = Math.min(96 / image.width, 64 / image.height);
  const w = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  useEffect(() => {
    const canvas = ref.current;
    const px = m.pixels(image.id);
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || !px) return;
    const full = new OffscreenCanvas(px.width, px.height);
    full.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(px.data), px.width, px.height), 0, 0);
    ctx.imageSmoothingQuality = 'high';
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(full, 0, 0, w, h);
    const r = { x: crop.x * scale, y: crop.y * scale, w: crop.width * scale, h: crop.height * scale };
    ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.fillRect(0, 0, w, r.y);
    ctx.fillRect(0, r.y + r.h, w, h - r.y - r.h);
    ctx.fillRect(0, r.y, r.x, r.h);
    ctx.fillRect(r.x + r.w, r.y, w - r.x - r.w, r.h);
    ctx.strokeStyle = '#6aa5ff';
    ctx.lineWidth = 1;
    ctx.strokeRect(r.x + 0.5, r.y + 0.5, Math.max(0, r.w - 1), Math.max(0, r.h - 1));
  }, [m, image.id, crop.x, crop.y, crop.width, crop.height, w, h, scale]);
  const rounded = [crop.x, crop.y, crop.width, crop.height].map((v) => Math.round(v)).join(',');
  return <canvas ref={ref} width={w} height={h} className="crop-thumb" data-testid={testId} data-crop={rounded} />;
}

function GalleryThumb({ item }: { item: GalleryItem }) {
  const url = useMemo(() => URL.createObjectURL(new Blob([item.png as Uint8Array<ArrayBuffer>], { type: 'image/png' })), [item.png]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return <img src={url} alt="" width={48} height={48} />;
}

/** The mode panel at the top of the prompt panel. */
export function ModePanel() {
  const m = modesFor(useController());
  return m ? <ModePanelBody m={m} /> : null;
}

function ModePanelBody({ m }: { m: ModesController }) {
  const t = useTm();
  const s = useStore(m.store);
  const stages = useApp((a) => (a.model.status === 'ready' ? a.model.info.stages : null));
  const gallery = useApp((a) => a.gallery);
  const steps = useApp((a) => a.params.steps);
  const frame = useEditor((e) => e.frame);
  const [picking, setPicking] = useState(false);
  const check = checkInputs(s, { frame, steps, stages });
  const inputs = activeInputs(s);
  const unavailable = stages ? EDITOR_MODES.map((mode) => ({ mode, missing: missingStages(mode, stages) })).filter((u) => u.missing.length > 0) : [];
  const imagesMissing = stages && s.mode !== 'text2img' ? missingForImages(s.mode, stages) : [];
  const imagesBlocked = imagesMissing.length > 0;
  const flagsAt = (i: number) => check.flags.filter((f) => f.index === i);
  const weightSum = s.conditions.reduce((a, c) => a + c.weight, 0);

  return (
    <section className="modes" data-testid="mode-panel">
      <label className="field">
        <span>{t('mode')}</span>
        <select data-testid="mode-select" value={s.mode} onChange={(e) => m.setMode(e.target.value as EditorMode)}>
          {EDITOR_MODES.map((mode) => {
            const missing = unavailable.find((u) => u.mode === mode)?.missing;
            return (
              <option key={mode} value={mode} disabled={missing !== undefined && mode !== s.mode}
                title={missing ? say(t, { key: 'unavailable', vars: { mode, stages: missing.join(', ') } }) : undefined}>
                {t(`mode_${mode}`)}
              </option>
            );
          })}
        </select>
      </label>
      {unavailable.length > 0 && (
        <ul className="mode-reasons" data-testid="mode-disabled-reason">
          {unavailable.map((u) => <li key={u.mode} data-mode={u.mode}>{say(t, { key: 'unavailable', vars: { mode: u.mode, stages: u.missing.join(', ') } })}</li>)}
        </ul>
      )}
      <p className="mode-hint">{t(`hint_${s.mode}`)}</p>

      {s.mode !== 'text2img' && (
        <>
          <div className="field">
            <span>{t(s.mode === 'fusion' ? 'conditions' : 'inputs')}</span>
            <div className="mode-sources">
              <button type="button" data-testid="mode-image-from-frame" disabled={imagesBlocked || s.busy} onClick={() => { setPicking(false); void m.addFromFrame(); }}>{t('fromFrame')}</button>
              <button type="button" data-testid="mode-image-from-gallery" disabled={imagesBlocked || s.busy || gallery.length === 0}
                aria-expanded={picking} title={gallery.length === 0 ? t('galleryEmpty') : undefined} onClick={() => setPicking(!picking)}>{t('fromGallery')}</button>
              <label className={`file-button${imagesBlocked || s.busy ? ' disabled' : ''}`}>
                <input data-testid="mode-image-input" type="file" accept="image/png,image/jpeg,image/webp" className="sr-only" disabled={imagesBlocked || s.busy}
                  onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; setPicking(false); if (f) void m.addFromFile(f); }} />
                {t('fromFile')}
              </label>
              {s.mode === 'fusion' && <button type="button" data-testid="mode-add-text" onClick={() => m.addText()}>{t('addText')}</button>}
            </div>
            {imagesBlocked && (
              <p className="flag" data-testid="mode-images-disabled-reason">
                {s.mode === 'fusion' ? t('noImageEncoder') : say(t, { key: 'unavailable', vars: { mode: s.mode, stages: imagesMissing.join(', ') } })}
              </p>
            )}
          </div>
          {picking && (
            <div className="mode-gallery-pick" data-testid="mode-gallery-picker">
              <span>{t('pickGallery')}</span>
              <div>
                {[...gallery].reverse().map((item) => (
                  <button key={item.id} type="button" data-testid="mode-gallery-option" data-id={item.id} title={`${item.width}×${item.height} · seed ${item.params.seed}`}
                    onClick={() => { setPicking(false); void m.addFromGallery(item.id); }}>
                    <GalleryThumb item={item} />
                  </button>
                ))}
              </div>
            </div>
          )}

          <ul className="mode-inputs" data-testid="mode-images">
            {inputs.length === 0 && <li className="empty">{t('noInputs')}</li>}
            {inputs.map((c, i) => (
              <li key={c.key} data-testid="mode-input" data-kind={c.kind} data-id={c.kind === 'image' ? c.image.id : undefined} data-weight={c.weight}>
                <div className="mode-input-row">
                  {c.kind === 'image' ? (
                    <>
                      <CropThumb m={m} image={c.image} crop={previewFor(s.mode, c.image, frame).rect} testId={`mode-crop-preview-${i}`} />
                      <div className="mode-input-meta" title={`${t('cropTitle')}\n${c.image.id}`}>
                        <span className="name">{c.image.source === 'file' ? c.image.name : t(`source_${c.image.source}`)}</span>
                        <span className="sub">{c.image.width}×{c.image.height} · {aspectLabel(c.image.width, c.image.height)}</span>
                        <span className="sub mono">{c.image.id.slice(7, 19)}</span>
                      </div>
                    </>
                  ) : (
                    <input type="text" className="mode-text" data-testid={`mode-text-${i}`} value={c.prompt} placeholder={t('textPlaceholder')}
                      aria-label={`${t('text')} ${i + 1}`} onChange={(e) => m.setText(i, e.target.value)} />
                  )}
                  <button type="button" className="remove" data-testid={`mode-remove-${i}`} title={t('remove')} aria-label={t('remove')} onClick={() => m.remove(i)}>×</button>
                </div>
                {s.mode === 'fusion' && (
                  <label className="mode-weight">
                    <span>{t('weight')}</span>
                    <input type="range" data-testid={`mode-weight-${i}`} min={WEIGHTS.min} max={WEIGHTS.max} step={WEIGHTS.step} value={c.weight}
                      aria-invalid={c.weight < 0} onChange={(e) => m.setWeight(i, Number(e.target.value))} />
                    <output data-testid={`mode-weight-value-${i}`} className={c.weight < 0 ? 'negative' : undefined}>{c.weight.toFixed(2)}</output>
                  </label>
                )}
                {flagsAt(i).map((f) => (
                  <p key={f.key} className="flag" data-testid={f.key === 'flagNegative' ? `mode-negative-${i}` : `mode-crop-warning-${i}`}>{say(t, f)}</p>
                ))}
              </li>
            ))}
          </ul>
          {s.mode === 'fusion' && s.conditions.length > 1 && <p className="mode-hint" data-testid="mode-weight-sum">{t('weightSum', { sum: weightSum.toFixed(2) })}</p>}

          {s.mode === 'img2img' && (
            <label className="mode-weight">
              <span>{t('strength')}</span>
              <input type="range" data-testid="strength-input" min={STRENGTH.min} max={STRENGTH.max} step={STRENGTH.step} value={s.strength}
                onChange={(e) => m.setStrength(Number(e.target.value))} />
              <output data-testid="strength-value">{s.strength.toFixed(2)}</output>
            </label>
          )}
        </>
      )}
    </section>
  );
}

/** The line above Generate: the editor's frame mode (children) in text2img mode, else the image mode; and why the last run was refused. */
export function ModeStatus({ children }: { children: ReactNode }) {
  const m = modesFor(useController());
  return m ? <ModeStatusBody m={m}>{children}</ModeStatusBody> : <>{children}</>;
}

function ModeStatusBody({ m, children }: { m: ModesController; children: ReactNode }) {
  const t = useTm();
  const mode = useStore(m.store, (s) => s.mode);
  const problem = useStore(m.store, (s) => s.problem);
  return (
    <>
      {mode === 'text2img' ? children : <div className="mode mode-image" data-testid="mode-status" data-mode={mode}>{t(`status_${mode}`)}</div>}
      {problem && <div className="mode-error" role="alert" data-testid="mode-error" data-key={problem.key}>{say(t, problem)}</div>}
    </>
  );
}
