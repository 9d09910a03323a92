/**
 * A Vite dev server on this checkout and a headless Chromium, for tests that run the workers' modules in a page
 * without the app (the parity harness page; kernel and runtime browser tests).
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/** The server's base URL, the browser, and one call to stop both. */
export interface DevPage {
  readonly base: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Start a dev server on `root` (no HMR, no watching) and launch Chromium with SPEC §5's flags. */
export async function startDevPage(root: string): Promise<DevPage> {
  const { createServer } = await import('vite');
  const { launchBrowser } = await import('./browser.ts');
  const server = await createServer({
    root, configFile: join(root, 'vite.config.ts'), logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') {
    await server.close();
    throw new Error('no dev server port');
  }
  const browser = await launchBrowser().catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  return {
    // localhost (not 127.0.0.1): a secure context, which WebGPU needs.
    base: `http://localhost:${address.port}`,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** A dev page for one test file: started before its tests, closed after them; call the result inside a test. */
export function useDevPage(root: string): () => DevPage {
  let dev: DevPage | undefined;
  beforeAll(async () => { dev = await startDevPage(root); }, 120_000);
  afterAll(async () => { await dev?.close(); });
  return () => {
    if (!dev) throw new Error('useDevPage: the dev page has not started (call it inside a test)');
    return dev;
  };
}
