/** Waiting on the editor's model status line, shared by the page objects. */
import type { Page } from 'playwright-core';

/** Wait until the model status says "ready" (fails fast on "error"); returns the status text. */
export async function waitForModelReady(page: Page, timeoutMs: number, pollingMs = 250): Promise<string> {
  await page.waitForFunction(
    () => {
      const el = document.querySelector('[data-testid="model-status"]');
      if (el?.textContent?.includes('error')) throw new Error(`model failed to load: ${el.textContent}`);
      return el?.textContent?.includes('ready') ?? false;
    },
    undefined,
    { timeout: timeoutMs, polling: pollingMs },
  );
  return (await page.getByTestId('model-status').textContent()) ?? '';
}
