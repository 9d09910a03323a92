import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { ortWasm } from './scripts/vite-plugin-ort-wasm.ts';
import { ISOLATION_HEADERS } from './src/pwa/isolation.ts';
import { CONTENT_SECURITY_POLICY, META_CONTENT_SECURITY_POLICY } from './src/pwa/csp.ts';

/** Cross-origin isolation lets onnxruntime-web use threaded wasm (SharedArrayBuffer).
 *  `credentialless` keeps cross-origin model downloads (CORS) working. On static hosts the
 *  service worker (src/pwa/sw.ts) adds the same headers. */
const isolationHeaders = ISOLATION_HEADERS;

/** Installable PWA: manifest, icons, and a service worker that precaches the app shell and ORT's
 *  .mjs, and caches the ORT .wasm builds in use at install (never public/models: models live in
 *  OPFS, see workers/storage). */
const pwa = VitePWA({
  strategies: 'injectManifest',
  srcDir: 'src/pwa',
  filename: 'sw.ts',
  registerType: 'prompt',
  injectRegister: false,
  manifest: {
    name: 'Kandinsky Web',
    short_name: 'Kandinsky',
    description: 'Kandinsky 2.2 text-to-image in your browser, on your GPU; works offline once a model is downloaded.',
    start_url: '.',
    scope: '.',
    display: 'standalone',
    background_color: '#111215',
    theme_color: '#17181c',
    icons: [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
  includeManifestIcons: false,
  injectManifest: {
    globPatterns: ['**/*.{js,mjs,css,html,wasm,svg,png,ico}'],
    // ORT loads its wasm from ort/ (wasmPaths in workers/runtime/ort.ts); the copy Vite emits under assets/ is unused.
    // ort/*.wasm (three builds, 14-27 MB each): the two a browser uses are cached at install instead (src/pwa/sw.ts).
    globIgnores: ['models/**', 'assets/ort-wasm-*.wasm', 'ort/*.wasm'],
    maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
  },
  devOptions: { enabled: false },
});

/** The built index.html carries the Content-Security-Policy as a meta tag, for hosts that set no headers
 *  (src/pwa/csp.ts). Build only: the dev server's React refresh preamble is an inline script. */
const cspMeta: Plugin = {
  name: 'kandinsky:csp-meta',
  apply: 'build',
  transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: META_CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
};

export default defineConfig({
  plugins: [react(), ortWasm(), pwa, cspMeta],
  worker: { format: 'es' },
  optimizeDeps: {
    exclude: ['onnxruntime-web'],
    // Pre-bundle what workers and harness pages import lazily, so the dev server never
    // re-optimises (and reloads the page) in the middle of a test or a parity run.
    include: ['comlink', '@huggingface/tokenizers', 'hash-wasm', 'idb', 'zustand', 'zustand/vanilla', 'react', 'react-dom/client'],
  },
  server: { headers: isolationHeaders },
  preview: { headers: { ...isolationHeaders, 'Content-Security-Policy': CONTENT_SECURITY_POLICY } },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
