/** Shared check of the manifest property suites: a mutated manifest either parses or is refused as it should be. */
import { expect } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { parseManifest, type BundleManifest } from '../runtime/manifest.ts';

/** The parsed manifest, or null after checking the refusal is a BAD_MANIFEST naming a field (never a crash or INTERNAL). */
export function parseOrRefused(m: unknown): BundleManifest | null {
  try {
    return parseManifest(m, 'fuzz/manifest.json');
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe(ErrorCode.BadManifest);
    expect((e as EngineError).message).toMatch(/^fuzz\/manifest\.json: field "[^"]+"/);
    return null;
  }
}
