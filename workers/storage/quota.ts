/** Free-space checks before a download, and quota errors mapped to QUOTA_EXCEEDED with a clear message. */
import { EngineError, ErrorCode } from '../errors.ts';
import { formatBytes } from './format.ts';

/** What navigator.storage.estimate() tells us (fields may be missing). */
export interface SpaceEstimate {
  readonly usage?: number | undefined;
  readonly quota?: number | undefined;
}

/** Head-room kept free beyond the files themselves (state files, browser bookkeeping). */
export const SPACE_MARGIN_BYTES = 16 * 1024 * 1024;

/** Throw QUOTA_EXCEEDED when `needed` more bytes will not fit; do nothing when the browser does not say. */
export function checkSpace(needed: number, estimate: SpaceEstimate | null, what: string): void {
  if (!estimate || estimate.quota === undefined || estimate.usage === undefined) return;
  const free = Math.max(0, estimate.quota - estimate.usage);
  if (needed + SPACE_MARGIN_BYTES > free) {
    throw new EngineError(
      ErrorCode.Quota,
      `Not enough storage for ${what}: it needs ${formatBytes(needed)} more, but this site may only use ${formatBytes(free)} more `
        + `(${formatBytes(estimate.usage)} of ${formatBytes(estimate.quota)} used). Delete a model or free disk space, then try again.`,
      { expected: `${needed} bytes free`, actual: `${free} bytes free` },
    );
  }
}

/** True for the errors browsers throw when storage is full. */
export function isQuotaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const name = (e as { name?: unknown }).name;
  const code = (e as { code?: unknown }).code;
  // Chromium/WebKit: QuotaExceededError (legacy code 22); Firefox: NS_ERROR_DOM_QUOTA_REACHED.
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22;
}

/** Map a quota error thrown while writing `file` to QUOTA_EXCEEDED; other errors pass through unchanged. */
export function mapQuotaError(e: unknown, file: string, stored: number): unknown {
  if (!isQuotaError(e)) return e;
  return new EngineError(
    ErrorCode.Quota,
    `Storage is full: the browser refused to store more of ${file} after ${formatBytes(stored)}. `
      + 'Delete a model or free disk space, then press Download again: the download resumes where it stopped.',
    { file },
  );
}
