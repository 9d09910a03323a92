/** Starts one Vite dev server for the whole e2e run; specs read its URL from E2E_BASE_URL. */
import { createServer, type ViteDevServer } from 'vite';
import type { TestProject } from 'vitest/node';
import 'vitest';

let server: ViteDevServer | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The specs were written against the random tiny bundle (sizes, names, timings): keep it as the
  // built-in model here (workers/builtin.ts); specs about the trained micro model load it by URL.
  process.env.VITE_BUILTIN_MODEL ??= 'tiny-kandinsky-2-2';
  server = await createServer({
    configFile: 'vite.config.ts',
    // No HMR and no watching: a file saved during a run must not reload the page under test.
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false, watch: null },
    logLevel: 'warn',
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('e2e: dev server has no port');
  // localhost (not 127.0.0.1) so that the page is a secure context for WebGPU.
  const url = `http://localhost:${address.port}`;
  project.provide('baseUrl', url);
  process.env.E2E_BASE_URL = url;
  return async () => {
    await server?.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
