/// <reference lib="webworker" />
/**
 * The service worker (vite-plugin-pwa, injectManifest): precaches the app shell and onnxruntime-web's
 * self-hosted .mjs files, caches the ORT .wasm builds this browser uses (never the models: they live
 * in OPFS, see workers/storage), serves the app offline, adds cross-origin isolation and
 * Content-Security-Policy headers for static hosts, and waits for the page's "reload" before a new
 * version takes over.
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
const manifest = self.__WB_MANIFEST;
precacheAndRoute(manifest);
cleanupOutdatedCaches();

// onnxruntime-web ships three wasm builds (plain CPU 14 MB, JSPI 17 MB, asyncify 27 MB; see
// workers/runtime/ort.ts); a browser uses two of them. Precaching all would double the install
// download, so the two are fetched at install and any other on first use, in a cache named after
// the precached .mjs revisions: a new onnxruntime-web release gets a new cache, the old one is dropped.
const ORT_WASM_CACHE_PREFIX = 'kandinsky-ort-wasm-';
const ortRevision = manifest
  .flatMap((e) => (typeof e !== 'string' && /(^|\/)ort\/.*\.mjs$/.test(e.url) ? [e.revision ?? ''] : []))
  .join('');
let hash = 0;
for (let i = 0; i < ortRevision.length; i++) hash = (Math.imul(hash, 31) + ortRevision.charCodeAt(i)) | 0;
const ortWasmCache = `${ORT_WASM_CACHE_PREFIX}${(hash >>> 0).toString(36)}`;

// At install, fetch the two builds this browser will use, so that it works offline even before its
// first generation (sessions, and with them the wasm, are created lazily): the CPU build (the
// fallback) and the GPU build workers/runtime/ort.ts picks (JSPI where offered, else asyncify).
const jspi = typeof (globalThis.WebAssembly as { Suspending?: unknown } | undefined)?.Suspending === 'function';
const ORT_WASM_AT_INSTALL = ['ort-wasm-simd-threaded.wasm', jspi ? 'ort-wasm-simd-threaded.jspi.wasm' : 'ort-wasm-simd-threaded.asyncify.wasm'];
self.addEventListener('install', (event: ExtendableEvent) => {
  const scope = new URL(self.registration.scope);
  event.waitUntil(caches.open(ortWasmCache).then((cache) => cache.addAll(ORT_WASM_AT_INSTALL.map((f) => new URL(`ort/${f}`, scope).href))));
});

self.addEventListener('activate', (event: ExtendableEvent) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith(ORT_WASM_CACHE_PREFIX) && k !== ortWasmCache).map((k) => caches.delete(k)),
  )));
});

// Navigations inside the app get the precached shell (offline too). Model files and anything
// cross-origin are not routed: they go to the network untouched (Range requests included).
const base = new URL(self.registration.scope).pathname;
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), {
  denylist: [new RegExp(`^${base}models/`), new RegExp(`^${base}e2e/`)],
}));

// ORT's .wasm: cache first (offline after the first load), else the network, kept when it succeeds.
registerRoute(
  ({ url, request }) => request.method === 'GET' && url.origin === self.location.origin && url.pathname.startsWith(`${base}ort/`) && url.pathname.endsWith('.wasm'),
  async ({ request }) => {
    const cache = await caches.open(ortWasmCache);
    const hit = await cache.match(request);
    if (hit) return withIsolationHeaders(hit);
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return withIsolationHeaders(response);
  },
);

// The first install controls open pages at once (so they can become isolated); updates wait for the prompt.
clientsClaim();
