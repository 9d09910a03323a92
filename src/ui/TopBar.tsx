/** Title, file actions, undo/redo, language and model status. */
import { useRef } from 'react';
import { LANGUAGES, type Language } from '../app/i18n.ts';
import { EDITOR_SHORTCUTS } from '../editor/editor.ts';
import { useApp, useController, useEditor, useT } from './hooks.ts';
import { Icon } from './icons.tsx';
import { ModelManagerButton } from '../models/ModelManager.tsx';
import { familyName } from '../../workers/protocol.ts';

export function TopBar() {
  const c = useController();
  const t = useT();
  const canUndo = useEditor((s) => s.canUndo && !s.locked);
  const canRedo = useEditor((s) => s.canRedo && !s.locked);
  const language = useApp((s) => s.language);
  const fileInput = useRef<HTMLInputElement>(null);
  return (
    <header className="topbar">
      <div className="brand"><span className="logo"><Icon name="sparkle" size={20} /></span>{t('appTitle')}</div>
      <div className="group">
        <button type="button" onClick={() => fileInput.current?.click()} title={t('open')}><Icon name="open" /> {t('openShort')}</button>
        <input
          ref={fileInput}
          data-testid="open-image-input"
          type="file"
          accept="image/png,image/jpeg,image/webp"
          hidden
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void c.files.open(f);
            e.target.value = '';
          }}
        />
        <button type="button" data-testid="save-png-button" onClick={() => void c.files.saveCanvas()} title={t('saveCanvas')}><Icon name="save" /> {t('saveCanvasShort')}</button>
        <button type="button" data-testid="save-frame-button" onClick={() => void c.files.saveFrame()} title={t('saveFrame')}><Icon name="frame" /> {t('saveFrameShort')}</button>
      </div>
      <div className="group">
        <button type="button" data-testid="undo-button" disabled={!canUndo} onClick={() => c.editor.undo()} title={`${t('undo')} (${EDITOR_SHORTCUTS.undo})`}><Icon name="undo" /> {t('undo')}</button>
        <button type="button" data-testid="redo-button" disabled={!canRedo} onClick={() => c.editor.redo()} title={`${t('redo')} (${EDITOR_SHORTCUTS.redo})`}><Icon name="redo" /> {t('redo')}</button>
      </div>
      <div className="spacer" />
      <ModelManagerButton />
      <ModelStatus />
      <label className="lang">
        <span className="sr-only">{t('language')}</span>
        <select data-testid="language-select" value={language} onChange={(e) => c.setLanguage(e.target.value as Language)} title={t('language')}>
          {Object.entries(LANGUAGES).map(([id, name]) => <option key={id} value={id}>{name}</option>)}
        </select>
      </label>
    </header>
  );
}

function ModelStatus() {
  const c = useController();
  const t = useT();
  const model = useApp((s) => s.model);
  let text: string;
  let cls: string;
  switch (model.status) {
    case 'none': text = t('modelNone'); cls = 'idle'; break;
    case 'loading': text = t('modelLoading', { name: model.name }); cls = 'busy'; break;
    case 'ready': text = t('modelReady', { name: model.info.name, ep: model.info.ep }); cls = 'ok'; break;
    case 'error': text = `${t('modelError')}: ${model.message}`; cls = 'bad'; break;
  }
  // Only the random tiny bundle says so in its description; the trained micro model gets no badge.
  const randomWeights = model.status === 'ready' && /random weights/i.test(model.info.description);
  return (
    <div className="model">
      <span data-testid="model-status" className={`status ${cls}`} title={text}>
        <span className="dot" aria-hidden />{text}
      </span>
      {model.status === 'ready' && (
        <span className="family" data-testid="model-family" data-family={model.info.family}>{familyName(model.info.family)}</span>
      )}
      {randomWeights && (
        <span className="badge" data-testid="model-note" title={t('modelTinyNote')}>{t('tinyBadge')}</span>
      )}
      {(model.status === 'none' || model.status === 'error') && (
        <button type="button" data-testid="load-model-button" onClick={() => void c.model.load()}>{t('loadModel')}</button>
      )}
    </div>
  );
}
