/** Launches Debian's chromium through playwright-core with the flags of SPEC §5. */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that give headless chromium WebGPU on SwiftShader and keep it off the network. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
] as const;

/** Launch chromium; fails with a clear message if it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`chromium not found at ${CHROMIUM_PATH}: run 'apt-get install chromium' (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
}

/** A fresh context with console output forwarded to the test log when E2E_DEBUG is set. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (process.env.E2E_DEBUG) {
    context.on('page', (page) => page.on('console', (m) => console.log(`[page] ${m.type()}: ${m.text()}`)));
  }
  return context;
}

/** Where specs save screenshots (ignored by git). */
export function artifactPath(name: string): string {
  const dir = join('e2e', 'artifacts');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
