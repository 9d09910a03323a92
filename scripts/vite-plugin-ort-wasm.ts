/**
 * Self-hosts onnxruntime-web's WebAssembly files under `${base}ort/` (never a CDN, so the app works
 * offline): served from node_modules by the dev server, emitted as assets by the build.
 * workers/runtime/ort.ts points `ort.env.wasm.wasmPaths` at that folder.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

/**
 * The builds workers/runtime/ort.ts loads: plain (wasm provider only), asyncify and jspi (native
 * WebGPU provider + CPU), each a .wasm and the .mjs its wasm threads start from. The dev server also
 * serves the legacy JSEP build, which benchmarks may select; the production build leaves it out.
 * (Node uses node_modules directly.)
 */
const ORT_FILE = /^ort-wasm-simd-threaded(\.asyncify|\.jspi)?\.(wasm|mjs)$/;
const DEV_ORT_FILE = /^ort-wasm-simd-threaded(\.asyncify|\.jspi|\.jsep)?\.(wasm|mjs)$/;

function ortDist(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/** Vite plugin: serves and emits the ORT wasm runtime files under `ort/`. */
export function ortWasm(): Plugin {
  let base = '/';
  return {
    name: 'kandinsky:ort-wasm',
    configResolved(config) {
      base = config.base;
    },
    configureServer(server) {
      const dist = ortDist();
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0] ?? '';
        const prefix = `${base}ort/`;
        const name = url.startsWith(prefix) ? url.slice(prefix.length) : '';
        if (!DEV_ORT_FILE.test(name)) {
          next();
          return;
        }
        // The configured headers (COOP/COEP) matter here: ORT starts its wasm threads as module workers
        // from the .mjs, and a cross-origin-isolated page may only run workers that are isolated too.
        for (const [key, value] of Object.entries(server.config.server.headers ?? {})) {
          if (value !== undefined) res.setHeader(key, value);
        }
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        res.end(readFileSync(join(dist, name)));
      });
    },
    generateBundle() {
      const dist = ortDist();
      for (const name of readdirSync(dist)) {
        if (ORT_FILE.test(name)) this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(join(dist, name)) });
      }
    },
  };
}
