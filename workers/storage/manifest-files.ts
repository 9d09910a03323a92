/**
 * The files a bundle manifest (SPEC §2) names, with the sizes and hashes to verify them against:
 * stage graphs, their external-data files, the prior stats and the tokenizer. Validation is the
 * runtime's parseManifestText, so a bundle the engine would refuse is refused before any download.
 */
import { manifestFamily, parseManifestText } from '../runtime/manifest.ts';
import { STAGE_NAMES, type StageName } from '../runtime/types.ts';
import type { ManifestFile } from './state.ts';

/** What the store needs from a manifest. */
export interface ManifestFacts {
  readonly name: string;
  readonly description: string;
  /** The model family (manifestFamily: a version 1 manifest is Kandinsky 2.2 whatever its free-text field says). */
  readonly family: string;
  readonly stages: readonly StageName[];
  readonly files: readonly ManifestFile[];
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i + 1);
}

/**
 * Parse manifest.json text and list its files. Throws BAD_MANIFEST (not JSON, another format or
 * version, missing stages or fields) naming `where` (the URL or folder) and the field.
 */
export function readManifest(text: string, where: string): ManifestFacts {
  const m = parseManifestText(text, where);
  const files: ManifestFile[] = [];
  const seen = new Set<string>();
  const add = (f: ManifestFile) => {
    if (seen.has(f.path)) return;
    seen.add(f.path);
    files.push(f);
  };
  const stages: StageName[] = [];
  for (const name of STAGE_NAMES) {
    const s = m.stages[name];
    if (!s) continue;
    stages.push(name);
    add({ path: s.file, bytes: s.bytes, sha256: s.sha256, optional: false });
    // External-data paths are relative to the bundle folder, as runtime/bundle.ts reads them.
    for (const x of s.external_data ?? []) add({ path: x.path, bytes: x.bytes, sha256: x.sha256, optional: false });
    if (name === 'prior') add({ path: s.stats ?? 'prior_stats.json', bytes: null, sha256: null, optional: false });
  }
  // The CLIP tokenizer, and Kandinsky 2.1's multilingual one (text_multilingual), each with its optional config.
  for (const text of [m.text, m.text_multilingual]) {
    if (text === undefined) continue;
    add({ path: text.tokenizer, bytes: null, sha256: null, optional: false });
    add({ path: `${dirname(text.tokenizer)}tokenizer_config.json`, bytes: null, sha256: null, optional: true });
  }
  return { name: m.name, description: m.description, family: manifestFamily(m), stages, files };
}
