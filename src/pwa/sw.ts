/// <reference lib="webworker" />
/**
 * The service worker (vite-plugin-pwa, injectManifest): precaches the app shell and onnxruntime-web's
 * self-hosted wasm/mjs files (never the models: they live in OPFS, see workers/storage), serves the
 * app offline, adds cross-origin isolation and Content-Security-Policy headers for static hosts, and waits for the page's
 * "reload" before a new version takes over.
 */
import { clientsClaim } from 'workbox-core';
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { withContentSecurityPolicy } from './csp.ts';
import { withIsolationHeaders } from './isolation.ts';

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

/** Message the page sends (workbox-window's updateSW) to activate a waiting version. */
const SKIP_WAITING = 'SKIP_WAITING';

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  if ((event.data as { type?: unknown } | null)?.type === SKIP_WAITING) void self.skipWaiting();
});

// Every response the precache serves gets COOP/COEP, so the page is isolated even where the host sets no headers,
// and the Content-Security-Policy, which the app's workers (whose scripts are served from here) run under too.
addPlugins([{ handlerWillRespond: async ({ response }) => withContentSecurityPolicy(withIsolationHeaders(response)) }]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Navigations inside the app get the precached shell (offline too). Model files and anything
// cross-origin are not routed: they go to the network untouched (Range requests included).
const base = new URL(self.registration.scope).pathname;
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), {
  denylist: [new RegExp(`^${base}models/`), new RegExp(`^${base}e2e/`)],
}));

// The first install controls open pages at once (so they can become isolated); updates wait for the prompt.
clientsClaim();
