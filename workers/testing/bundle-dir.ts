/** A bundle folder on disk as a `files` source (Node only: tests, the parity runner, benchmarks). */
import { openAsBlob, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `dir`, as bundle paths (forward slashes, relative to `dir`). */
export function bundlePaths(dir: string): string[] {
  const walk = (d: string): string[] => readdirSync(d).flatMap((name) => {
    const p = join(d, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
  return walk(dir).map((p) => relative(dir, p).split('\\').join('/'));
}

/** The folder's files as lazy, file-backed Blobs: multi-gigabyte stages are not read up front. */
export async function bundleDirBlobs(dir: string): Promise<Map<string, Blob>> {
  const files = new Map<string, Blob>();
  for (const path of bundlePaths(dir)) files.set(path, await openAsBlob(join(dir, path)));
  return files;
}

/** The folder's files read into memory (for tests that edit them). */
export function bundleDirBytes(dir: string): Map<string, Uint8Array> {
  return new Map(bundlePaths(dir).map((path) => [path, new Uint8Array(readFileSync(join(dir, path)))]));
}
