import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext } from './support/browser.ts';
import { baseUrl } from './support/base-url.ts';

let browser: Browser;
beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });

test('the app shell loads in a secure, cross-origin-isolated context with WebGPU', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(baseUrl());
  const facts = await page.evaluate(() => ({
    secure: window.isSecureContext,
    isolated: window.crossOriginIsolated,
    gpu: 'gpu' in navigator,
  }));
  expect(facts).toEqual({ secure: true, isolated: true, gpu: true });
  await context.close();
});
