import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { ortWasm } from './scripts/vite-plugin-ort-wasm.ts';

/** Cross-origin isolation lets onnxruntime-web use threaded wasm (SharedArrayBuffer).
 *  `credentialless` keeps cross-origin model downloads (CORS) working. */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
} as const;

export default defineConfig({
  plugins: [react(), ortWasm()],
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
