/** Test helper: the built-in tiny bundle as in-memory files (Node only). */
import { openAsBlob } from 'node:fs';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { BundleSourceData } from '../protocol.ts';

/** Absolute path of the tiny bundle shipped with the app. */
export const TINY_BUNDLE_DIR = resolve(import.meta.dirname, '../../public/models/tiny-kandinsky-2-2');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** The tiny bundle as a `files` source (lazy file-backed Blobs). Optionally override files. */
export async function tinyBundleSource(overrides: Record<string, Blob | Uint8Array | null> = {}): Promise<BundleSourceData & { kind: 'files' }> {
  const files = new Map<string, Blob | Uint8Array>();
  for (const p of walk(TINY_BUNDLE_DIR)) files.set(relative(TINY_BUNDLE_DIR, p).split('\\').join('/'), await openAsBlob(p));
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) files.delete(k);
    else files.set(k, v);
  }
  return { kind: 'files', files };
}
