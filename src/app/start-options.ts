/** The app's start-up options, from the URL query. */
import type { ProviderPreference } from '../../workers/runtime/types.ts';

/** Start-up options read from the URL (documented in README): ep, small, autoload, db. */
export interface StartOptions {
  /** Force an execution provider (`?ep=wasm|webgpu|auto`). */
  readonly provider?: ProviderPreference;
  /** Offer small test frame sizes 64–256 (`?small=1`). */
  readonly smallFrames?: boolean;
  /** Load the built-in model at start (default true; `?autoload=0` skips it). */
  readonly autoload?: boolean;
  /** IndexedDB database name (`?db=name`), or null for no persistence. */
  readonly dbName?: string | null;
}

/** Parse start options from a query string. */
export function parseStartOptions(search: string): StartOptions {
  const q = new URLSearchParams(search);
  const ep = q.get('ep');
  const out: { -readonly [K in keyof StartOptions]: StartOptions[K] } = {};
  if (ep === 'wasm' || ep === 'webgpu' || ep === 'auto') out.provider = ep;
  if (q.has('small')) out.smallFrames = q.get('small') !== '0';
  if (q.get('autoload') === '0') out.autoload = false;
  if (q.has('db')) out.dbName = q.get('db');
  return out;
}
