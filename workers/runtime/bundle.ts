/**
 * Opens a model bundle (SPEC §2) from a URL prefix or from in-memory files: reads and validates the
 * manifest, prior statistics and tokenizer, and reads stage files on demand with size (and optionally
 * sha256) checks. Works in browsers, workers and Node.
 */
import { createSHA256 } from 'hash-wasm';
import { EngineError, ErrorCode } from '../errors.ts';
import type { BundleSourceData } from '../protocol.ts';
import { checkSameOrigin, folderUrl, resolveBundlePath } from './bundle-path.ts';
import { parseManifestText, type BundleManifest, type FileEntry } from './manifest.ts';
import { STAGE_NAMES } from './types.ts';

/** An opened bundle: validated metadata plus access to its files. */
export interface Bundle {
  readonly manifest: BundleManifest;
  /** CLIP image-embedding statistics the prior de-normalises with (length embedding_dim). */
  readonly priorStats: { readonly clipMean: Float32Array; readonly clipStd: Float32Array };
  readonly tokenizerJson: unknown;
  /** tokenizer_config.json next to tokenizer.json, or null when the bundle has none. */
  readonly tokenizerConfig: unknown | null;
  /** Kandinsky 2.1: the multilingual (XLM-R) tokenizer.json named by text_multilingual, its config and path. */
  readonly multilingualTokenizer?: { readonly json: unknown; readonly config: unknown | null; readonly path: string };
  /** Where the bundle came from (URL prefix or "local files"), for messages. */
  readonly location: string;
  /** Reads a file by its path inside the bundle; files the manifest lists are size-checked. */
  readFile(path: string): Promise<Uint8Array>;
}

export interface LoadBundleOptions {
  /** Check every stage file's size and sha256 now (reads the whole bundle once). */
  readonly verify?: boolean;
  /** fetch to use for URL bundles (tests, custom caching); defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Low-level access to the files of one bundle source. */
interface FileSource {
  readonly location: string;
  /** Full location of one file, for messages. */
  describe(path: string): string;
  /** The file's bytes; MISSING_FILE if absent. */
  read(path: string): Promise<Uint8Array>;
  /** The file as a stream of chunks (for hashing without holding two copies). */
  chunks(path: string): AsyncIterable<Uint8Array>;
  /** The file's bytes, or null if absent (optional files). */
  readOptional(path: string): Promise<Uint8Array | null>;
}

function missing(path: string, where: string, extra = ''): EngineError {
  return new EngineError(ErrorCode.MissingFile, `The bundle file "${path}" was not found at ${where}${extra}. Check that the bundle was copied or downloaded completely.`, {
    file: path,
  });
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function urlSource(baseUrl: string, fetchImpl: typeof fetch): FileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const folder = folderUrl(new URL(base, globalThis.location?.href ?? undefined));
  // Manifest paths were checked when it was parsed; resolving by the same rule keeps every fetch inside the folder.
  const urlOf = (path: string): string => resolveBundlePath(folder, path, path).href;
  const get = async (path: string, allowMissing: boolean): Promise<Response | null> => {
    const url = urlOf(path);
    let res: Response;
    try {
      res = await fetchImpl(url);
    } catch (e) {
      throw new EngineError(
        ErrorCode.Network,
        `Could not fetch ${url}: ${e instanceof Error ? e.message : String(e)}. Check the connection, and that the server allows cross-origin requests (CORS).`,
        { file: path },
      );
    }
    try {
      checkSameOrigin(url, res, `The bundle file "${path}"`);
    } catch (e) {
      await res.body?.cancel().catch(() => undefined);
      throw e;
    }
    if (res.status === 404 || res.status === 410) {
      if (allowMissing) return null;
      throw missing(path, url, ` (HTTP ${res.status})`);
    }
    if (!res.ok) {
      throw new EngineError(ErrorCode.Network, `Fetching ${url} failed with HTTP ${res.status} ${res.statusText}. Try again later or check the server.`, { file: path });
    }
    return res;
  };
  const body = async (res: Response, path: string): Promise<Uint8Array> => {
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new EngineError(ErrorCode.Network, `Download of ${urlOf(path)} broke off: ${e instanceof Error ? e.message : String(e)}`, { file: path });
    }
  };
  return {
    location: base,
    describe: urlOf,
    async read(path) {
      return body((await get(path, false))!, path);
    },
    async *chunks(path) {
      const res = (await get(path, false))!;
      if (res.body === null) {
        yield new Uint8Array(await res.arrayBuffer());
        return;
      }
      yield* streamChunks(res.body);
    },
    async readOptional(path) {
      const res = await get(path, true);
      return res === null ? null : body(res, path);
    },
  };
}

/** Normalises a relative path: no leading "./" or "/". */
const normalise = (p: string): string => p.replace(/^(\.\/|\/)+/, '');

function filesSource(files: ReadonlyMap<string, Blob | Uint8Array>): FileSource {
  const table = new Map<string, Blob | Uint8Array>();
  for (const [k, v] of files) table.set(normalise(k), v);
  // A folder picked in the browser keeps its own name as the first path segment
  // ("tiny-kandinsky/manifest.json"): accept that when it is the only manifest.
  let prefix = '';
  if (!table.has('manifest.json')) {
    const candidates = [...table.keys()].filter((k) => k.endsWith('/manifest.json') && k.split('/').length === 2);
    if (candidates.length === 1) prefix = candidates[0]!.slice(0, -'manifest.json'.length);
  }
  const lookup = (path: string): Blob | Uint8Array => {
    const v = table.get(prefix + normalise(path));
    if (v === undefined) throw missing(path, 'the selected files', prefix ? ` (folder "${prefix.slice(0, -1)}")` : '');
    return v;
  };
  return {
    location: prefix ? `local files (${prefix.slice(0, -1)})` : 'local files',
    describe: (path) => `${prefix}${normalise(path)} (local files)`,
    async read(path) {
      const v = lookup(path);
      if (v instanceof Uint8Array) return v;
      try {
        return new Uint8Array(await v.arrayBuffer());
      } catch (e) {
        throw new EngineError(ErrorCode.MissingFile, `Could not read the local file "${path}": ${e instanceof Error ? e.message : String(e)}. Select the bundle folder again.`, { file: path });
      }
    },
    async *chunks(path) {
      const v = lookup(path);
      if (v instanceof Uint8Array) {
        const step = 16 << 20;
        for (let i = 0; i < v.length; i += step) yield v.subarray(i, i + step);
        return;
      }
      yield* streamChunks(v.stream());
    },
    async readOptional(path) {
      return table.has(prefix + normalise(path)) ? this.read(path) : null;
    },
  };
}

function integrityError(file: string, what: 'size' | 'sha256', expected: string, actual: string): EngineError {
  return new EngineError(
    ErrorCode.Integrity,
    `The bundle file "${file}" is corrupt or from another export: its ${what} is ${actual} but the manifest expects ${expected}. Download or copy the bundle again.`,
    { file, expected, actual },
  );
}

/** Sizes and hashes of every file the manifest lists, by path. */
function listedFiles(manifest: BundleManifest): Map<string, FileEntry> {
  const out = new Map<string, FileEntry>();
  for (const name of STAGE_NAMES) {
    const s = manifest.stages[name];
    if (!s) continue;
    out.set(normalise(s.file), { path: s.file, bytes: s.bytes, sha256: s.sha256 });
    for (const e of s.external_data ?? []) out.set(normalise(e.path), e);
  }
  if (manifest.linear_prior) out.set(normalise(manifest.linear_prior.path), manifest.linear_prior);
  return out;
}

async function verifyFile(src: FileSource, entry: FileEntry): Promise<void> {
  const hasher = await createSHA256();
  hasher.init();
  let size = 0;
  for await (const chunk of src.chunks(entry.path)) {
    size += chunk.length;
    if (size > entry.bytes) throw integrityError(entry.path, 'size', `${entry.bytes} bytes`, `more than ${entry.bytes} bytes`);
    hasher.update(chunk);
  }
  if (size !== entry.bytes) throw integrityError(entry.path, 'size', `${entry.bytes} bytes`, `${size} bytes`);
  const digest = hasher.digest('hex');
  if (digest !== entry.sha256) throw integrityError(entry.path, 'sha256', entry.sha256, digest);
}

function parseJson(bytes: Uint8Array, path: string, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new EngineError(ErrorCode.BadManifest, `${where} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`, { file: path, expected: 'JSON' });
  }
}

function parseStats(json: unknown, path: string, dim: number): { clipMean: Float32Array; clipStd: Float32Array } {
  const vector = (key: 'clip_mean' | 'clip_std'): Float32Array => {
    const v = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined;
    if (!Array.isArray(v) || v.length !== dim || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new EngineError(
        ErrorCode.BadManifest,
        `${path}: "${key}" should be ${dim} finite numbers (embedding_dim) but is ${Array.isArray(v) ? `an array of ${v.length}` : typeof v}. Re-export the bundle.`,
        { file: path, expected: `${key}: ${dim} numbers`, actual: Array.isArray(v) ? `${v.length} values` : typeof v },
      );
    }
    return Float32Array.from(v as number[]);
  };
  return { clipMean: vector('clip_mean'), clipStd: vector('clip_std') };
}

/** Directory part of a bundle path ("tokenizer/tokenizer.json" → "tokenizer/"). */
const dirOf = (path: string): string => path.slice(0, path.lastIndexOf('/') + 1);

/** A tokenizer.json and the tokenizer_config.json beside it (optional). */
async function readTokenizer(src: FileSource, path: string): Promise<{ json: unknown; config: unknown | null; path: string }> {
  const configPath = `${dirOf(path)}tokenizer_config.json`;
  const [bytes, configBytes] = await Promise.all([src.read(path), src.readOptional(configPath)]);
  return {
    json: parseJson(bytes, path, src.describe(path)),
    config: configBytes === null ? null : parseJson(configBytes, configPath, src.describe(configPath)),
    path,
  };
}

/** Opens a bundle; BAD_MANIFEST, MISSING_FILE, NETWORK_ERROR or INTEGRITY_MISMATCH name the file at fault. */
export async function loadBundle(source: BundleSourceData, options: LoadBundleOptions = {}): Promise<Bundle> {
  let src: FileSource;
  switch (source.kind) {
    case 'url': {
      const fetchImpl = options.fetch ?? globalThis.fetch;
      if (typeof fetchImpl !== 'function') throw new EngineError(ErrorCode.Unsupported, 'This environment has no fetch(); load the bundle from local files instead.');
      src = urlSource(source.baseUrl, fetchImpl.bind(globalThis));
      break;
    }
    case 'files':
      src = filesSource(source.files);
      break;
    default: {
      const never: never = source;
      throw new EngineError(ErrorCode.BadRequest, `Unknown bundle source ${JSON.stringify(never)}`);
    }
  }

  const manifestWhere = src.describe('manifest.json');
  const manifest = parseManifestText(new TextDecoder().decode(await src.read('manifest.json')), manifestWhere);
  const listed = listedFiles(manifest);

  const statsPath = manifest.stages.prior?.stats ?? 'prior_stats.json';
  const tokenizerPath = manifest.text.tokenizer;
  const configPath = `${dirOf(tokenizerPath)}tokenizer_config.json`;
  const [statsBytes, tokenizerBytes, configBytes] = await Promise.all([
    src.read(statsPath), src.read(tokenizerPath), src.readOptional(configPath),
  ]);
  const multilingualTokenizer = manifest.text_multilingual === undefined ? undefined : await readTokenizer(src, manifest.text_multilingual.tokenizer);
  const priorStats = parseStats(parseJson(statsBytes, statsPath, src.describe(statsPath)), statsPath, manifest.embedding_dim);
  const tokenizerJson = parseJson(tokenizerBytes, tokenizerPath, src.describe(tokenizerPath));
  const tokenizerConfig = configBytes === null ? null : parseJson(configBytes, configPath, src.describe(configPath));

  if (options.verify === true) {
    // One file at a time: big bundles would otherwise hold several stage files in memory at once.
    for (const entry of listed.values()) await verifyFile(src, entry);
  }

  return {
    manifest,
    priorStats,
    tokenizerJson,
    tokenizerConfig,
    ...(multilingualTokenizer === undefined ? {} : { multilingualTokenizer }),
    location: src.location,
    async readFile(path) {
      const bytes = await src.read(path);
      const entry = listed.get(normalise(path));
      if (entry !== undefined && bytes.length !== entry.bytes) {
        throw integrityError(entry.path, 'size', `${entry.bytes} bytes`, `${bytes.length} bytes`);
      }
      return bytes;
    },
  };
}
