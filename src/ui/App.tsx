/** The editor page: top bar, tools, canvas, prompt panel, staging strip, gallery and messages. */
import { useEffect } from 'react';
import type { AppController } from '../app/controller.ts';
import { CanvasView } from './CanvasView.tsx';
import { Gallery } from './Gallery.tsx';
import { Notices } from './Notices.tsx';
import { PromptPanel } from './PromptPanel.tsx';
import { StagingStrip } from './StagingStrip.tsx';
import { Toolbar } from './Toolbar.tsx';
import { TopBar } from './TopBar.tsx';
import { ControllerContext } from './hooks.ts';
import { UpdatePrompt } from '../pwa/UpdatePrompt.tsx';

const isTyping = (el: EventTarget | null): boolean =>
  el instanceof HTMLElement && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

function useGlobalKeys(c: AppController): void {
  useEffect(() => {
    const down = (e: KeyboardEvent): void => {
      const ctrl = e.ctrlKey || e.metaKey;
      if (ctrl && e.key === 'Enter') { e.preventDefault(); void c.runs.generate(); return; }
      if (isTyping(e.target)) return;
      const s = c.store.getState();
      if (s.staging) {
        if (e.key === 'Enter') { e.preventDefault(); c.runs.accept(); return; }
        if (e.key === 'Escape') { c.runs.discard(); return; }
        if (e.key === 'ArrowRight') { c.runs.cycle(1); return; }
        if (e.key === 'ArrowLeft') { c.runs.cycle(-1); return; }
      }
      if (s.run && e.key === 'Escape') { c.runs.cancel(); return; }
      const used = c.editor.keyDown({ key: e.key, code: e.code, shiftKey: e.shiftKey, altKey: e.altKey, ctrlKey: ctrl, repeat: e.repeat });
      if (used) e.preventDefault();
    };
    const up = (e: KeyboardEvent): void => c.editor.keyUp({ code: e.code });
    const paste = (e: ClipboardEvent): void => {
      if (isTyping(e.target)) return;
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (file) { e.preventDefault(); void c.files.open(file); }
    };
    const hide = (): void => { void c.storage.flush(); };
    const visibility = (): void => { if (document.visibilityState === 'hidden') hide(); };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('paste', paste);
    window.addEventListener('pagehide', hide);
    document.addEventListener('visibilitychange', visibility);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('paste', paste);
      window.removeEventListener('pagehide', hide);
      document.removeEventListener('visibilitychange', visibility);
    };
  }, [c]);
}

export function App({ controller }: { controller: AppController }) {
  useGlobalKeys(controller);
  return (
    <ControllerContext.Provider value={controller}>
      <div className="app">
        <TopBar />
        <div className="workspace">
          <Toolbar />
          <main className="stage">
            <CanvasView />
            <StagingStrip />
            <Notices />
          </main>
          <PromptPanel />
        </div>
        <Gallery />
        <UpdatePrompt />
      </div>
    </ControllerContext.Provider>
  );
}
