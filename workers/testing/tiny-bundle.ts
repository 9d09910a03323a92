/** Test helper: the built-in tiny bundle as in-memory files (Node only). */
import { resolve } from 'node:path';
import type { BundleSourceData } from '../protocol.ts';
import { bundleDirBlobs } from './bundle-dir.ts';

/** Absolute path of the tiny bundle shipped with the app. */
export const TINY_BUNDLE_DIR = resolve(import.meta.dirname, '../../public/models/tiny-kandinsky-2-2');

/** The tiny bundle as a `files` source (lazy file-backed Blobs). Optionally override files. */
export async function tinyBundleSource(overrides: Record<string, Blob | Uint8Array | null> = {}): Promise<BundleSourceData & { kind: 'files' }> {
  const files = new Map<string, Blob | Uint8Array>(await bundleDirBlobs(TINY_BUNDLE_DIR));
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) files.delete(k);
    else files.set(k, v);
  }
  return { kind: 'files', files };
}

/** Absolute path of the tiny Kandinsky 2.1 bundle (manifest version 2; exported by tools/export). */
export const TINY_21_BUNDLE_DIR = resolve(import.meta.dirname, '../../public/models/tiny-kandinsky-2-1');

/** The tiny 2.1 bundle as a `files` source. Optionally override (or, with null, remove) files. */
export async function tinyBundle21Source(overrides: Record<string, Blob | Uint8Array | null> = {}): Promise<BundleSourceData & { kind: 'files' }> {
  const files = new Map<string, Blob | Uint8Array>(await bundleDirBlobs(TINY_21_BUNDLE_DIR));
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) files.delete(k);
    else files.set(k, v);
  }
  return { kind: 'files', files };
}
