/**
 * The built app's Content-Security-Policy (src/pwa/csp.ts), end to end: one production build served by
 * `vite preview`, one browser. The policy is served (header, meta tag, service worker), blocks an
 * injected inline script, and the app still loads the built-in model and generates under it, online
 * and offline from the service worker.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CONTENT_SECURITY_POLICY, META_CONTENT_SECURITY_POLICY } from '../src/pwa/csp.ts';
import { ModelsPage } from './pages/models-page.ts';
import { launchBrowser, newContext } from './support/browser.ts';

/** What the page saw: its securitypolicyviolation events (recorded by an init script, which the policy does not cover). */
interface Violation { readonly directive: string; readonly blocked: string; readonly sample: string }
declare global {
  interface Window { __cspViolations?: Violation[]; __injectedRan?: boolean }
}

let work: string;
let outDir: string;
let app: PreviewServer;
let appUrl: string;
let browser: Browser;
let context: BrowserContext;
/** Console lines of the page and its workers that report a blocked resource. */
const refused: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'csp-e2e-'));
  outDir = join(work, 'dist');
  const configFile = resolve('vite.config.ts');
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  app = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  appUrl = `http://localhost:${(app.httpServer.address() as AddressInfo).port}`; // localhost: a secure context
  browser = await launchBrowser();
  context = await newContext(browser);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations!.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  context.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((r) => (app ? app.httpServer.close(() => r()) : r()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('Content-Security-Policy of the built app', () => {
  test('served as a header and a meta tag; the built page has no inline script or style', async () => {
    const page = await fetch(`${appUrl}/`);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self' 'wasm-unsafe-eval';");
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
    expect(meta?.[1]?.replaceAll('&#39;', "'")).toBe(META_CONTENT_SECURITY_POLICY);
    // The meta tag comes before every script, so it governs them all.
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script'));
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  test('online: an injected inline script is blocked, and the app generates with the built-in model under the policy', async () => {
    const ui = await ModelsPage.open(context, appUrl);
    // The page is controlled by the service worker now; the policy it serves is the same.
    expect(await ui.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await ui.page.addScriptTag({ content: 'window.__injectedRan = true;' }).catch(() => undefined);
    expect(await ui.page.evaluate(() => window.__injectedRan === true)).toBe(false);
    const violations = await ui.page.evaluate(() => window.__cspViolations ?? []);
    expect(violations).toContainEqual(expect.objectContaining({ directive: 'script-src-elem', blocked: 'inline' }));

    await ui.waitForModel();
    await ui.generate('a red cat under a strict policy');
    // Nothing the app itself does is refused (page, workers, wasm threads).
    expect(await ui.page.evaluate(() => (window.__cspViolations ?? []).filter((v) => v.blocked !== 'inline'))).toEqual([]);
    expect(refused.filter((line) => !/inline/.test(line))).toEqual([]);
    expect(refused.some((line) => /inline script/.test(line))).toBe(true); // the console watch does see refusals

    // Let the background copy of the built-in bundle finish, so the next start works offline.
    await ui.openManager();
    await ui.waitForItemStatus('builtin', 'ready');
    await ui.closeManager();
  });

  test('offline: served by the service worker, under the same policy, the app loads and generates', async () => {
    const ui = new ModelsPage(context.pages()[0]!);
    await context.setOffline(true);
    try {
      const response = await ui.page.reload();
      expect(response?.fromServiceWorker()).toBe(true);
      expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      await ui.waitForServiceWorker();
      await ui.waitForModel();
      await ui.generate('a lighthouse at night, offline');
      expect(await ui.page.evaluate(() => window.__cspViolations ?? [])).toEqual([]);
      expect(refused.filter((line) => !/inline/.test(line))).toEqual([]);
    } finally {
      await context.setOffline(false);
    }
  });
});
