/**
 * The files a bundle manifest (SPEC §2) names, with the sizes and hashes to verify them against:
 * stage graphs, their external-data files, the prior stats and the tokenizer.
 */
import { EngineError, ErrorCode } from '../errors.ts';
import { STAGE_NAMES, type StageName } from '../runtime/types.ts';
import type { ManifestFile } from './state.ts';
import { isSha256Hex } from './hash.ts';

/** `format` and `version` of the bundles this app reads (SPEC §2). */
export const BUNDLE_FORMAT = 'kandinsky-onnx-bundle';
export const BUNDLE_VERSION = 1;

/** What the store needs from a manifest. */
export interface ManifestFacts {
  readonly name: string;
  readonly description: string;
  readonly family: string;
  readonly stages: readonly StageName[];
  readonly files: readonly ManifestFile[];
}

function bad(where: string, message: string): EngineError {
  return new EngineError(ErrorCode.BadManifest, `${where}: ${message}`, { file: 'manifest.json' });
}

/** A relative path inside the bundle ("unet.onnx", "tokenizer/tokenizer.json"); no "..", no scheme, no leading "/". */
export function isSafeRelativePath(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(p) && !p.includes('\\')
    && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i + 1);
}

/**
 * Parse manifest.json text and list its files. Throws BAD_MANIFEST (not JSON, other format or version,
 * a stage without file/bytes/sha256, unsafe paths) with `where` (the URL or folder) in the message.
 */
export function readManifest(text: string, where: string): ManifestFacts {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const start = text.slice(0, 40).replace(/\s+/g, ' ');
    throw bad(where, `manifest.json is not JSON (it starts with "${start}"). Point the source at a bundle folder that holds manifest.json.`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(where, 'manifest.json must hold a JSON object.');
  const m = json as Record<string, unknown>;
  if (m.format !== BUNDLE_FORMAT) {
    throw bad(where, `expected "format": "${BUNDLE_FORMAT}", found ${JSON.stringify(m.format) ?? 'nothing'}. This is not a Kandinsky ONNX bundle.`);
  }
  if (m.version !== BUNDLE_VERSION) {
    throw bad(where, `this app reads bundle version ${BUNDLE_VERSION}, the manifest says ${JSON.stringify(m.version)}. Use a bundle exported for this version.`);
  }
  if (typeof m.name !== 'string' || m.name === '') throw bad(where, 'the manifest has no "name".');
  const stagesObj = m.stages;
  if (typeof stagesObj !== 'object' || stagesObj === null || Array.isArray(stagesObj)) throw bad(where, 'the manifest has no "stages" object.');

  const files: ManifestFile[] = [];
  const seen = new Set<string>();
  const add = (f: ManifestFile) => {
    if (!isSafeRelativePath(f.path)) throw bad(where, `file path ${JSON.stringify(f.path)} must be relative to the bundle folder.`);
    if (seen.has(f.path)) return;
    seen.add(f.path);
    files.push(f);
  };
  const checked = (ctx: string, o: Record<string, unknown>, pathKey: string): ManifestFile => {
    const path = o[pathKey];
    if (typeof path !== 'string') throw bad(where, `${ctx} has no "${pathKey}".`);
    if (typeof o.bytes !== 'number' || !Number.isSafeInteger(o.bytes) || o.bytes < 0) throw bad(where, `${ctx} has no valid "bytes".`);
    if (typeof o.sha256 !== 'string' || !isSha256Hex(o.sha256)) throw bad(where, `${ctx} has no valid "sha256" (64 hex digits).`);
    return { path, bytes: o.bytes, sha256: o.sha256.toLowerCase(), optional: false };
  };

  const stages: StageName[] = [];
  for (const [name, value] of Object.entries(stagesObj as Record<string, unknown>)) {
    if (!(STAGE_NAMES as readonly string[]).includes(name)) continue; // a newer stage this app cannot use
    if (typeof value !== 'object' || value === null) throw bad(where, `stage "${name}" is not an object.`);
    const s = value as Record<string, unknown>;
    stages.push(name as StageName);
    add(checked(`stage "${name}"`, s, 'file'));
    if (s.external_data !== undefined) {
      if (!Array.isArray(s.external_data)) throw bad(where, `stage "${name}".external_data must be an array.`);
      s.external_data.forEach((x: unknown, i) => {
        if (typeof x !== 'object' || x === null) throw bad(where, `stage "${name}".external_data[${i}] is not an object.`);
        // External-data paths are relative to the graph file (onnx convention).
        const entry = checked(`stage "${name}".external_data[${i}]`, x as Record<string, unknown>, 'path');
        add({ ...entry, path: dirname(s.file as string) + entry.path });
      });
    }
    if (name === 'prior') {
      const stats = typeof s.stats === 'string' ? s.stats : 'prior_stats.json';
      add({ path: stats, bytes: null, sha256: null, optional: false });
    }
  }
  if (stages.length === 0) throw bad(where, `the manifest lists no known stage (expected some of ${STAGE_NAMES.join(', ')}).`);

  const text_ = m.text as Record<string, unknown> | undefined;
  const tokenizer = typeof text_?.tokenizer === 'string' ? text_.tokenizer : null;
  if (tokenizer === null) throw bad(where, 'the manifest has no "text.tokenizer" path.');
  add({ path: tokenizer, bytes: null, sha256: null, optional: false });
  add({ path: `${dirname(tokenizer)}tokenizer_config.json`, bytes: null, sha256: null, optional: true });

  return {
    name: m.name,
    description: typeof m.description === 'string' ? m.description : '',
    family: typeof m.family === 'string' ? m.family : '',
    stages,
    files,
  };
}
