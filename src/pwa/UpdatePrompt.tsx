/// <reference types="vite-plugin-pwa/client" />
/**
 * Registers the service worker, reloads once if a static host left the page without cross-origin
 * isolation, and shows "new version — reload" when an update is waiting.
 */
import { useEffect, useState } from 'react';
import { registerSW } from 'virtual:pwa-register';
import { useT } from '../ui/hooks.ts';
import './pwa.css';

/** sessionStorage flag: the isolation reload was tried in this tab (never loop where the browser cannot isolate). */
const ISOLATION_RELOAD_KEY = 'kandinsky-web:isolation-reload';

/** Reload once when a service worker controls the page but the page is not cross-origin isolated yet. */
export function reloadForIsolation(): void {
  if (typeof window === 'undefined' || window.crossOriginIsolated || !('serviceWorker' in navigator)) return;
  const tryReload = () => {
    if (window.crossOriginIsolated || !navigator.serviceWorker.controller) return;
    if (sessionStorage.getItem(ISOLATION_RELOAD_KEY)) return;
    sessionStorage.setItem(ISOLATION_RELOAD_KEY, '1');
    location.reload();
  };
  if (navigator.serviceWorker.controller) tryReload();
  else navigator.serviceWorker.addEventListener('controllerchange', tryReload, { once: true });
}

type Updater = (reloadPage?: boolean) => Promise<void>;
let updater: Updater | null = null;
const listeners = new Set<(need: boolean) => void>();
let needRefresh = false;

function register(): void {
  if (updater) return;
  updater = registerSW({
    immediate: true,
    onNeedRefresh() {
      needRefresh = true;
      for (const l of listeners) l(true);
    },
    onRegisteredSW() {
      reloadForIsolation();
    },
    onRegisterError(error: unknown) {
      console.warn('service worker registration failed: the app works, but not offline', error);
    },
  });
}

/**
 * Activate the waiting version and reload once it controls the page. workbox-window reloads by itself
 * only for updates it found at registration; one found later in a long-open tab counts as "external"
 * there, so the page also reloads on controllerchange.
 */
function activateUpdate(): void {
  navigator.serviceWorker?.addEventListener('controllerchange', () => location.reload(), { once: true });
  void updater?.(true);
}

/** A small toast when a new version is installed and waiting; "Reload" activates it. */
export function UpdatePrompt() {
  const t = useT();
  const [need, setNeed] = useState(needRefresh);
  useEffect(() => {
    register();
    listeners.add(setNeed);
    return () => { listeners.delete(setNeed); };
  }, []);
  if (!need) return null;
  return (
    <div className="pwa-update" role="status" data-testid="pwa-update">
      <span>{t('updateReady')}</span>
      <button type="button" className="primary" data-testid="pwa-reload-button" onClick={activateUpdate}>{t('updateReload')}</button>
      <button type="button" onClick={() => setNeed(false)}>{t('updateLater')}</button>
    </div>
  );
}
