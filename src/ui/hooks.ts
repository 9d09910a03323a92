/** React adapters over the vanilla stores (zustand's useStore) and the controller context. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { AppController } from '../app/controller.ts';
import type { MessageKey } from '../app/i18n.ts';
import type { AppState } from '../app/store.ts';
import type { EditorState } from '../editor/editor.ts';

export const ControllerContext = createContext<AppController | null>(null);

/** The app controller. */
export function useController(): AppController {
  const c = useContext(ControllerContext);
  if (!c) throw new Error('useController: render inside <ControllerContext.Provider>');
  return c;
}

/** Select from the app store. */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useController().store, selector);
}

/** Select from the editor store. */
export function useEditor<T>(selector: (s: EditorState) => T): T {
  return useStore(useController().editor.store, selector);
}

/** Translator bound to the current language (re-renders on language change). */
export function useT(): (key: MessageKey, vars?: Readonly<Record<string, string | number>>) => string {
  const c = useController();
  useApp((s) => s.language);
  return (key, vars) => c.t(key, vars);
}
