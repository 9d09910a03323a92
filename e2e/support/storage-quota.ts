/** Squeezing an origin's storage quota in Chromium through the DevTools protocol (Storage.overrideQuotaForOrigin). */
import type { CDPSession, Page } from 'playwright-core';

/**
 * Set the origin's quota below what it uses now (so a compaction that shrinks the usage cannot make room),
 * then wait until IndexedDB refuses a write. Chromium's
 * IndexedDB keeps a space allowance from its last quota query that decays over 30 s
 * (BucketContext::kBucketSpaceCacheTimeLimit), so an override takes effect for it within 30 s;
 * the probe writes go to a database of their own. Returns the error name IndexedDB gave.
 */
export async function fillQuota(cdp: CDPSession, page: Page, origin: string, timeoutMs = 60_000): Promise<string> {
  const used = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: Math.floor(used / 2) });
  const probe = (): Promise<string | false> => page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const q = indexedDB.open('e2e-quota-probe', 1);
      q.onupgradeneeded = () => q.result.createObjectStore('junk');
      q.onsuccess = () => resolve(q.result);
      q.onerror = () => reject(q.error);
    });
    try {
      return await new Promise<string | false>((resolve) => {
        const tx = db.transaction('junk', 'readwrite');
        tx.objectStore('junk').put(crypto.getRandomValues(new Uint8Array(4096)), 'probe');
        tx.oncomplete = () => resolve(false);
        tx.onabort = () => resolve(tx.error?.name ?? 'AbortError');
      });
    } finally {
      db.close();
    }
  });
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await page.waitForTimeout(1000)) {
    const refused = await probe();
    if (refused !== false) return refused;
  }
  throw new Error(`IndexedDB still accepted writes ${timeoutMs} ms after the quota override`);
}

/** Give the origin its normal quota back. */
export async function restoreQuota(cdp: CDPSession, origin: string): Promise<void> {
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
}
