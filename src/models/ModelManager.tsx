/** The model manager: a top-bar button and the panel it opens (sources, progress, stored models, storage). */
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { Language } from '../app/i18n.ts';
import { useApp, useController } from '../ui/hooks.ts';
import { formatBytes, formatDuration, formatSpeed } from '../../workers/storage/format.ts';
import { missingFor } from '../../workers/storage/modes.ts';
import type { AddProgress, BundleModes, StoredBundle } from '../../workers/storage/protocol.ts';
import { familyName } from '../../workers/protocol.ts';
import { directoryPicker, folderFromFileList, folderFromHandle } from './folder.ts';
import { tm, type ModelsKey } from './i18n.ts';
import { managerFor } from './install.ts';
import { BUILTIN_ID, type ModelManager, type ModelsState } from './manager.ts';
import './models.css';

function useManager(): ModelManager | null {
  return managerFor(useController());
}

function useModels<T>(m: ModelManager, selector: (s: ModelsState) => T): T {
  return useStore(m.store, selector);
}

function useTm(): (key: ModelsKey, vars?: Readonly<Record<string, string | number>>) => string {
  const language: Language = useApp((s) => s.language);
  return (key, vars) => tm(language, key, vars);
}

/** Top-bar button; opens the model manager panel. Renders nothing when no manager is installed. */
export function ModelManagerButton() {
  const m = useManager();
  if (!m) return null;
  return <ButtonAndPanel m={m} />;
}

function ButtonAndPanel({ m }: { m: ModelManager }) {
  const t = useTm();
  const open = useModels(m, (s) => s.open);
  const busy = useModels(m, (s) => s.task !== null);
  return (
    <>
      <button type="button" data-testid="model-manager-button" aria-expanded={open} className={busy ? 'mm-busy' : undefined} onClick={() => m.setOpen(!open)}>
        {t('models')}{busy ? ' ↓' : ''}
      </button>
      {open && <Panel m={m} />}
    </>
  );
}

function Panel({ m }: { m: ModelManager }) {
  const t = useTm();
  useEffect(() => {
    const key = (e: KeyboardEvent) => { if (e.key === 'Escape') m.setOpen(false); };
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [m]);
  return (
    <div className="mm-backdrop" onPointerDown={(e) => { if (e.target === e.currentTarget) m.setOpen(false); }}>
      <section className="mm-panel" role="dialog" aria-label={t('manager')} data-testid="model-manager">
        <header className="mm-head">
          <h2>{t('manager')}</h2>
          <button type="button" className="link" data-testid="model-manager-close" onClick={() => m.setOpen(false)} aria-label={t('close')}>✕</button>
        </header>
        <div className="mm-scroll">
          <Sources m={m} />
          <Notice m={m} />
          <Progress m={m} />
          <BundleList m={m} />
        </div>
        <footer className="mm-foot"><Usage m={m} /><Gpu m={m} /></footer>
      </section>
    </div>
  );
}

function Sources({ m }: { m: ModelManager }) {
  const t = useTm();
  const url = useModels(m, (s) => s.url);
  const busy = useModels(m, (s) => s.task !== null);
  const hasBuiltin = useModels(m, (s) => s.bundles.some((b) => b.source.kind === 'builtin' && b.status === 'ready'));
  const folderInput = useRef<HTMLInputElement>(null);
  const pick = directoryPicker();
  return (
    <section className="mm-section">
      <h3>{t('sources')}</h3>
      <form className="mm-row" onSubmit={(e) => { e.preventDefault(); void m.addUrl(); }}>
        <label className="mm-grow">
          <span className="sr-only">{t('url')}</span>
          <input data-testid="model-url-input" type="url" value={url} placeholder={t('urlPlaceholder')} onChange={(e) => m.setUrl(e.target.value)} />
        </label>
        <button type="submit" className="primary" data-testid="model-download-button" disabled={busy || url.trim() === ''}>{t('download')}</button>
      </form>
      <div className="mm-row">
        <span className="mm-grow mm-muted">{t('folder')}</span>
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            if (!pick) { folderInput.current?.click(); return; }
            try {
              const picked = await folderFromHandle(await pick());
              void m.addFolder(picked.files, picked.label);
            } catch (e) {
              if (!(e instanceof DOMException && e.name === 'AbortError')) folderInput.current?.click();
            }
          }}
        >{t('chooseFolder')}</button>
        <input
          ref={folderInput}
          data-testid="model-folder-input"
          type="file"
          multiple
          hidden
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => {
            const list = e.target.files;
            if (list && list.length > 0) {
              const picked = folderFromFileList([...list]);
              void m.addFolder(picked.files, picked.label);
            }
            e.target.value = '';
          }}
        />
      </div>
      <div className="mm-row">
        <span className="mm-grow mm-muted">{t('builtin')}</span>
        <button type="button" data-testid="model-builtin-button" disabled={busy || hasBuiltin} onClick={() => void m.addBuiltin()}>{t('storeBuiltin')}</button>
      </div>
    </section>
  );
}

function Notice({ m }: { m: ModelManager }) {
  const notice = useModels(m, (s) => s.notice);
  if (!notice) return null;
  if (notice.kind === 'info') return <p className="mm-notice info" data-testid="model-notice" role="status">{notice.text}</p>;
  const e = notice.error;
  return (
    <p className="mm-notice error" data-testid="model-error" data-code={e.code} role="alert">
      <strong>{e.code}</strong> {e.message}
      {e.expected !== undefined && <span className="mm-detail">expected {e.expected}{e.actual !== undefined ? `, got ${e.actual}` : ''}</span>}
    </p>
  );
}

function Progress({ m }: { m: ModelManager }) {
  const t = useTm();
  const p: AddProgress | null = useModels(m, (s) => s.progress);
  const running = useModels(m, (s) => s.task !== null);
  if (!p) return null;
  const pct = p.total > 0 ? (100 * p.loaded) / p.total : 0;
  return (
    <section
      className="mm-section mm-progress"
      data-testid="model-download-progress"
      data-phase={p.phase}
      data-loaded={p.loaded}
      data-total={p.total}
      data-bundle={p.bundleId}
    >
      <div className="mm-row">
        <strong className="mm-grow">{p.name || '…'} — {t(`phase_${p.phase}`)}</strong>
        {running && p.phase === 'transferring' && <button type="button" data-testid="model-pause-button" onClick={() => m.cancel()}>{t('pause')}</button>}
      </div>
      <div className="mm-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
        <div className="mm-fill" style={{ width: `${pct}%` }} />
      </div>
      <div className="mm-muted" data-testid="model-progress-overall">
        {p.phase === 'transferring'
          ? t('overall', { loaded: formatBytes(p.loaded), total: formatBytes(p.total), speed: formatSpeed(p.speed), eta: formatDuration(p.etaSeconds) })
          : `${formatBytes(p.loaded)} / ${formatBytes(p.total)}`}
      </div>
      {p.message && p.phase !== 'failed' && <div className="mm-muted">{p.message}</div>}
      <table className="mm-files">
        <tbody>
          {p.files.map((f) => (
            <tr key={f.path} data-testid={`model-file-${f.path}`} data-status={f.status} data-loaded={f.loaded} className={`mm-file ${f.status}`}>
              <td className="mm-path">{f.path}</td>
              <td>{formatBytes(f.loaded)}{f.total !== null ? ` / ${formatBytes(f.total)}` : ''}</td>
              <td>{f.status === 'downloading' ? `${formatSpeed(f.speed)} · ${formatDuration(f.etaSeconds)}` : t(`file_${f.status}`)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function BundleList({ m }: { m: ModelManager }) {
  const t = useTm();
  const bundles = useModels(m, (s) => s.bundles);
  return (
    <section className="mm-section">
      <h3>{t('stored')}</h3>
      {bundles.length === 0 ? <p className="mm-muted">{t('none')}</p> : (
        <ul className="mm-list" data-testid="model-list">
          {bundles.map((b) => <BundleItem key={b.id} m={m} b={b} />)}
        </ul>
      )}
    </section>
  );
}

const MODE_KEYS = ['text2img', 'img2img', 'inpaint', 'fusion', 'imageFusion', 'variations'] as const satisfies readonly (keyof BundleModes)[];

function BundleItem({ m, b }: { m: ModelManager; b: StoredBundle }) {
  const t = useTm();
  // No active id means the built-in model is in use.
  const active = useModels(m, (s) => s.activeId === b.id || (s.activeId === null && b.id === BUILTIN_ID));
  const busy = useModels(m, (s) => s.task !== null);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    if (!confirming) return;
    const timer = setTimeout(() => setConfirming(false), 4000);
    return () => clearTimeout(timer);
  }, [confirming]);
  const status = statusText(t, b);
  return (
    <li className={`mm-item ${active ? 'active' : ''}`} data-testid={`model-item-${b.id}`} data-source={b.source.kind} data-family={b.family} data-status={b.status} data-offline={b.offline} data-bytes={b.storedBytes}>
      <div className="mm-row">
        <strong className="mm-grow" title={b.description}>{b.name}</strong>
        <span className={`mm-badge ${b.status}`}>{status}</span>
      </div>
      <div className="mm-muted">
        <span data-testid={`model-family-${b.id}`}>{familyName(b.family)}</span>
        {' · '}{formatBytes(b.status === 'incomplete' ? b.bytes : b.storedBytes)}
        {b.source.label !== '' && <> · {t(`source_${b.source.kind}`)}: <span className="mm-source">{b.source.label}</span></>}
      </div>
      {b.variant && <div className="mm-muted" data-testid={`model-variant-${b.id}`}>{t('variant', { id: b.variant.label, reason: b.variant.reason })}</div>}
      {b.damage !== null && <div className="mm-item-error" data-testid={`model-damage-${b.id}`}>{t('damagedWhy', { reason: b.damage })}</div>}
      {b.status !== 'damaged' && <div className="mm-modes" aria-label={t('modes')}>
        {MODE_KEYS.map((k) => {
          const why = missingFor(k, b.stages);
          return <span key={k} className={`mm-mode ${b.modes[k] ? 'on' : 'off'}`} title={why ?? undefined}>{t(`mode_${k}`)}</span>;
        })}
      </div>}
      {b.lastError && b.status !== 'ready' && <div className="mm-item-error">{b.lastError.code}: {b.lastError.message}</div>}
      <div className="mm-row mm-actions">
        <BundleAction m={m} b={b} active={active} busy={busy} />
        <span className="mm-grow" />
        <button
          type="button"
          data-testid={`model-delete-${b.id}`}
          className={confirming ? 'mm-danger' : undefined}
          onClick={() => {
            if (!confirming) { setConfirming(true); return; }
            setConfirming(false);
            void m.remove(b.id);
          }}
        >{confirming ? t('confirmDelete') : t('delete')}</button>
      </div>
    </li>
  );
}

/** The badge text of a listed bundle. */
function statusText(t: ReturnType<typeof useTm>, b: StoredBundle): string {
  switch (b.status) {
    case 'ready': return b.offline ? t('ready') : t('readyMemory');
    case 'incomplete': return t('incomplete', { n: b.verifiedCount, m: b.fileCount });
    case 'damaged': return t('damaged');
    default: {
      const never: never = b.status;
      return String(never);
    }
  }
}

/** Use (ready), Resume (incomplete) or Re-download (damaged, where its source is known). */
function BundleAction({ m, b, active, busy }: { m: ModelManager; b: StoredBundle; active: boolean; busy: boolean }) {
  const t = useTm();
  switch (b.status) {
    case 'ready':
      return <button type="button" data-testid={`model-activate-${b.id}`} disabled={active} onClick={() => void m.activate(b.id)}>{active ? t('inUse') : t('use')}</button>;
    case 'incomplete':
      return <button type="button" data-testid={`model-resume-${b.id}`} disabled={busy} onClick={() => void m.resume(b)}>{t('resume')}</button>;
    case 'damaged':
      // A record too damaged to name its source can only be deleted.
      return b.source.label === '' ? null
        : <button type="button" data-testid={`model-redownload-${b.id}`} disabled={busy} onClick={() => void m.redownload(b)}>{t('redownload')}</button>;
    default: {
      const never: never = b.status;
      return String(never);
    }
  }
}

function Usage({ m }: { m: ModelManager }) {
  const t = useTm();
  const u = useModels(m, (s) => s.usage);
  if (!u) return <span data-testid="storage-usage" className="mm-muted">…</span>;
  const text = u.usage !== null && u.quota !== null
    ? t('usage', { bundles: formatBytes(u.bundleBytes), usage: formatBytes(u.usage), quota: formatBytes(u.quota), persisted: u.persisted ? t('persisted') : t('notPersisted') })
    : t('usageUnknown', { bundles: formatBytes(u.bundleBytes) });
  return (
    <div data-testid="storage-usage" className="mm-muted" data-bundle-bytes={u.bundleBytes} data-usage={u.usage ?? ''} data-backend={u.backend}>
      {text}
      {u.backend === 'cache' && <div>{t('backendCache')}</div>}
      {u.backend === 'memory' && <div>{t('backendMemory')}</div>}
    </div>
  );
}

function Gpu({ m }: { m: ModelManager }) {
  const t = useTm();
  const gpu = useModels(m, (s) => s.gpu);
  if (!gpu) return null;
  const text = !gpu.webgpu ? t('gpuNone') : gpu.shaderF16 ? t('gpuF16') : t('gpuNoF16');
  return <div className="mm-muted" title={gpu.adapter}>{t('gpu', { gpu: text })}</div>;
}
