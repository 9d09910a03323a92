/**
 * Resolve what the user asked for (built-in bundle, URL, picked folder) to one bundle: its manifest,
 * the variant chosen for this device, and where each file's bytes come from.
 */
import { EngineError, ErrorCode } from '../errors.ts';
import { checkSameOrigin, resolveBundlePath } from '../runtime/bundle-path.ts';
import type { AddRequest, FolderFile, GpuFacts, SourceKind, VariantChoice } from './protocol.ts';
import { readManifest, type ManifestFacts } from './manifest-files.ts';
import { blobSource, httpSource, type ByteSource } from './transfer.ts';
import { chooseVariant, parseVariants } from './variants.ts';

/** A resolved source: one bundle, ready to store. */
export interface ResolvedSource {
  readonly kind: SourceKind;
  readonly label: string;
  /** Identifies the source, so adding it again resumes the same stored bundle. */
  readonly key: string;
  /** URL prefix of the files (URL and built-in sources). */
  readonly baseUrl: string | null;
  readonly manifestText: string;
  readonly manifest: ManifestFacts;
  readonly variant: VariantChoice | null;
  /** Where the bytes of one manifest file come from; `pinned` when the manifest gives its SHA-256. */
  bytesOf(path: string, optional: boolean, pinned: boolean): ByteSource;
}

/** What resolution needs from the outside world. */
export interface ResolveContext {
  readonly fetch: typeof fetch;
  readonly gpu: () => Promise<GpuFacts>;
  /** Absolute URL of the built-in bundle folder. */
  readonly builtinUrl: string;
  /** Base for relative URLs typed by the user (the app's location). */
  readonly baseHref: string;
}

/** Hosts that may serve models over plain http: this computer only (`URL.hostname` spells IPv6 in brackets). */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Turn user input into an absolute URL: https, or http for this computer or the app's own origin
 * (a model next to an app served over http is no weaker than the app). Throws BAD_REQUEST with a hint otherwise.
 */
export function normaliseUrl(input: string, baseHref: string): URL {
  const text = input.trim();
  if (text === '') throw new EngineError(ErrorCode.BadRequest, 'Enter the URL of a model folder (holding manifest.json or variants.json).');
  let url: URL;
  try {
    url = new URL(text, baseHref);
  } catch {
    throw new EngineError(ErrorCode.BadRequest, `"${text}" is not a URL. Enter the address of a model folder, like https://host/models/kandinsky-2-2/.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EngineError(ErrorCode.BadRequest, `Only https URLs can be downloaded, not ${url.protocol}. For files on this computer, use "Local folder".`);
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.includes(url.hostname) && url.origin !== new URL(baseHref).origin) {
    throw new EngineError(
      ErrorCode.BadRequest,
      `${url.origin} is plain http: models are downloaded over https only (http only from this computer: localhost, 127.0.0.1, [::1]). Use the https:// address of the host.`,
    );
  }
  url.hash = '';
  return url;
}

async function getText(fetchFn: typeof fetch, url: string): Promise<{ status: number; text: string }> {
  let response: Response;
  try {
    response = await fetchFn(url, { cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new EngineError(
      ErrorCode.Network,
      `Could not reach ${url}: you may be offline, or the host does not allow this site to read it (CORS: it must send Access-Control-Allow-Origin).`,
      { file: url },
    );
  }
  try {
    checkSameOrigin(url, response, 'Reading the model');
  } catch (e) {
    await response.body?.cancel().catch(() => undefined);
    throw e;
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status, text: '' };
  }
  return { status: response.status, text: await response.text() };
}

function parseJson(text: string, what: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new EngineError(ErrorCode.BadManifest, `${what} at ${where} is not JSON (it starts with "${text.slice(0, 40).replace(/\s+/g, ' ')}").`, { file: what });
  }
}

async function resolveUrl(input: URL, kind: SourceKind, label: string, ctx: ResolveContext, forced: string | undefined): Promise<ResolvedSource> {
  const path = input.pathname;
  let folder: URL;
  let tryVariantsFirst = false;
  if (path.endsWith('/manifest.json')) {
    folder = new URL('./', input);
  } else if (path.endsWith('/variants.json')) {
    folder = new URL('./', input);
    tryVariantsFirst = true;
  } else {
    folder = new URL(input.href);
    if (!folder.pathname.endsWith('/')) folder.pathname += '/';
  }

  let variant: VariantChoice | null = null;
  let manifestUrl = new URL('manifest.json', folder).href;
  let manifest = tryVariantsFirst ? { status: 404, text: '' } : await getText(ctx.fetch, manifestUrl);
  if (manifest.status === 404 || manifest.status === 410) {
    const variantsUrl = new URL('variants.json', folder).href;
    const variants = await getText(ctx.fetch, variantsUrl);
    if (variants.status !== 200) {
      if (variants.status === 404 || variants.status === 410) {
        throw new EngineError(ErrorCode.MissingFile, `No manifest.json or variants.json at ${folder.href} (HTTP 404). Check the URL: it must point at a model folder.`, { file: manifestUrl });
      }
      throw new EngineError(ErrorCode.Network, `Could not download ${variantsUrl}: HTTP ${variants.status}.`, { file: variantsUrl });
    }
    const file = parseVariants(parseJson(variants.text, 'variants.json', variantsUrl));
    const { entry, choice } = chooseVariant(file, await ctx.gpu(), forced);
    variant = choice;
    folder = resolveBundlePath(folder, entry.path, `variants[${file.variants.indexOf(entry)}].path`, 'folder');
    manifestUrl = new URL('manifest.json', folder).href;
    manifest = await getText(ctx.fetch, manifestUrl);
  }
  if (manifest.status !== 200) {
    if (manifest.status === 404 || manifest.status === 410) {
      throw new EngineError(ErrorCode.MissingFile, `No manifest.json at ${folder.href} (HTTP ${manifest.status}).`, { file: manifestUrl });
    }
    throw new EngineError(ErrorCode.Network, `Could not download ${manifestUrl}: HTTP ${manifest.status}.`, { file: manifestUrl });
  }
  const facts = readManifest(manifest.text, manifestUrl);
  const base = folder.href;
  return {
    kind,
    label,
    key: kind === 'builtin' ? 'builtin' : `url:${manifestUrl}`,
    baseUrl: base,
    manifestText: manifest.text,
    manifest: facts,
    variant,
    bytesOf: (p, optional, pinned) => httpSource(resolveBundlePath(base, p, p).href, optional, ctx.fetch, pinned),
  };
}

/** Paths of picked files relative to the bundle root: drops "./" and the picked folder's own name. */
export function folderIndex(files: readonly FolderFile[]): Map<string, Blob> {
  const clean = files.map((f) => ({ path: f.path.replace(/\\/g, '/').replace(/^\.?\//, ''), file: f.file }));
  const atRoot = (p: string) => p === 'manifest.json' || p === 'variants.json';
  if (!clean.some((f) => atRoot(f.path))) {
    const firsts = new Set(clean.map((f) => f.path.split('/')[0]));
    if (firsts.size === 1 && clean.every((f) => f.path.includes('/'))) {
      for (const f of clean) f.path = f.path.slice(f.path.indexOf('/') + 1);
    }
  }
  return new Map(clean.map((f) => [f.path, f.file]));
}

async function resolveFolder(request: Extract<AddRequest, { kind: 'folder' }>, ctx: ResolveContext): Promise<ResolvedSource> {
  const all = folderIndex(request.files);
  const label = request.label || 'local folder';
  let prefix = '';
  let variant: VariantChoice | null = null;
  if (!all.has('manifest.json') && all.has('variants.json')) {
    const file = parseVariants(parseJson(await all.get('variants.json')!.text(), 'variants.json', label));
    const { entry, choice } = chooseVariant(file, await ctx.gpu(), request.variant);
    variant = choice;
    prefix = entry.path;
  }
  const manifestBlob = all.get(`${prefix}manifest.json`);
  if (!manifestBlob) {
    throw new EngineError(ErrorCode.MissingFile, `The folder "${label}" has no ${prefix}manifest.json: pick the folder of a model bundle (the one holding manifest.json).`, { file: 'manifest.json' });
  }
  const text = await manifestBlob.text();
  const facts = readManifest(text, `${label}/${prefix}manifest.json`);
  return {
    kind: 'folder',
    label,
    key: `folder:${label}/${prefix}`,
    baseUrl: null,
    manifestText: text,
    manifest: facts,
    variant,
    bytesOf: (p, optional) => blobSource(all.get(prefix + p) ?? null, `the folder "${label}"`, optional, p),
  };
}

/** Resolve an add request to one bundle. Throws BAD_REQUEST, NETWORK_ERROR, MISSING_FILE, BAD_MANIFEST or UNSUPPORTED. */
export async function resolveSource(request: AddRequest, ctx: ResolveContext): Promise<ResolvedSource> {
  switch (request.kind) {
    case 'builtin':
      return resolveUrl(new URL(ctx.builtinUrl), 'builtin', 'built-in tiny model', ctx, undefined);
    case 'url': {
      const url = normaliseUrl(request.url, ctx.baseHref);
      return resolveUrl(url, 'url', url.href, ctx, request.variant);
    }
    case 'folder':
      return resolveFolder(request, ctx);
  }
}
