/**
 * The one path rule for every bundle-relative path (manifest stage files, external data, tokenizer,
 * prior stats, variants.json folders), shared by the runtime and the model store: a path names a file
 * or folder *inside* the bundle folder, and nothing it contains can make `new URL(path, folder)` leave
 * that folder. The WHATWG URL parser drops tabs and newlines, trims spaces and control characters,
 * reads "\" as "/" and "%2e" as ".", so those are refused outright instead of being normalised.
 * Also: the rule for where a download may be redirected (same origin only).
 */
import { EngineError, ErrorCode } from '../errors.ts';

/** A file ("unet.onnx") or a folder ("fp16/", the trailing "/" optional). */
export type BundlePathKind = 'file' | 'folder';

/** A scheme at the start ("https:", "data:", "C:"): the path would be an absolute URL. */
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** Control characters (C0, DEL, C1): the URL parser strips or drops some of them. */
const CONTROL = /\p{Cc}/u;
/** Lone UTF-16 surrogates: not a file name, and encodeURIComponent throws on them. */
const LONE_SURROGATE = /\p{Cs}/u;
/** Percent-encoded ".", "/" or "\": the URL parser treats "%2e%2e" as ".." (any case). */
const ENCODED_SEPARATOR = /%(2e|2f|5c)/i;

/** Why `path` breaks the path rule, or null when it is a safe bundle-relative path. */
export function bundlePathProblem(path: string, kind: BundlePathKind = 'file'): string | null {
  if (path === '') return 'it is empty';
  if (path.includes('\\')) return 'it contains a backslash ("/" separates folders)';
  if (CONTROL.test(path)) return 'it contains a control character (tab, newline, …)';
  if (LONE_SURROGATE.test(path)) return 'it contains an unpaired UTF-16 surrogate';
  if (ENCODED_SEPARATOR.test(path)) return 'it contains a percent-encoded ".", "/" or "\\" (%2e, %2f, %5c)';
  if (SCHEME.test(path)) return 'it is an absolute URL (it starts with a scheme such as "https:" or "data:")';
  if (path.startsWith('/')) return 'it starts with "/" (paths are relative to the bundle folder)';
  const body = kind === 'folder' && path.endsWith('/') ? path.slice(0, -1) : path;
  for (const segment of body.split('/')) {
    if (segment === '') return 'it has an empty segment ("//", or a trailing "/" on a file)';
    if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
    if (segment !== segment.trim()) return 'a segment begins or ends with whitespace';
  }
  return null;
}

/** `value` if it is a string that keeps the path rule; BAD_MANIFEST naming `field` (and `source`, the file it is in) otherwise. */
export function checkBundlePath(value: unknown, field: string, source: string, kind: BundlePathKind = 'file'): string {
  const problem = typeof value === 'string' ? bundlePathProblem(value, kind) : 'it is not a string';
  if (problem === null) return value as string;
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value) : String(value);
  throw new EngineError(
    ErrorCode.BadManifest,
    `${source}: field "${field}" should be a relative path inside the bundle folder, but ${problem}: ${shown}. Fix ${source} or re-export the bundle.`,
    { file: source, expected: `${field}: a relative ${kind} path inside the bundle folder`, actual: shown },
  );
}

/** `url` as a folder URL: no query or fragment, path ending in "/". */
export function folderUrl(url: string | URL): URL {
  const folder = new URL(url);
  folder.search = '';
  folder.hash = '';
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';
  return folder;
}

/**
 * The URL of bundle path `path` under `folder`. Each segment is percent-encoded, so a path is a file
 * name ("a#b.onnx" is that file, not a fragment), exactly as a picked local folder reads it. Throws
 * BAD_MANIFEST naming `field` when the path breaks the rule or the result is not under the folder.
 */
export function resolveBundlePath(folder: string | URL, path: string, field: string, kind: BundlePathKind = 'file'): URL {
  const base = folderUrl(folder);
  checkBundlePath(path, field, base.href, kind);
  const url = new URL(path.split('/').map(encodeURIComponent).join('/'), base);
  // The checks above make this impossible; it stays as the rule's definition (same origin, same folder prefix).
  if (!isUnder(url, base)) {
    throw new EngineError(ErrorCode.BadManifest, `${base.href}: field "${field}" resolves to ${url.href}, outside the bundle folder.`, {
      file: base.href, expected: `${field}: a path inside ${base.href}`, actual: url.href,
    });
  }
  return url;
}

/** True when `url` lies inside `folder` (a folder URL): same origin and a path under the folder's. */
export function isUnder(url: URL, folder: URL): boolean {
  return url.origin === folder.origin && url.protocol === folder.protocol && url.pathname.startsWith(folder.pathname)
    && url.pathname.length > folder.pathname.length && url.search === '' && url.hash === '';
}

/** The origin a response came from when fetch followed a redirect to another origin; null otherwise. */
export function redirectedOrigin(requested: string, response: Response): string | null {
  if (!response.redirected || response.url === '') return null;
  let to: URL;
  try {
    to = new URL(response.url);
  } catch {
    return null;
  }
  return to.origin === new URL(requested).origin ? null : to.origin;
}

/**
 * The download rule: a response must come from the origin it was asked of. fetch follows redirects
 * silently, so a host (or whoever controls one hop) could otherwise serve the bundle from anywhere.
 */
export function checkSameOrigin(requested: string, response: Response, what: string): void {
  const other = redirectedOrigin(requested, response);
  if (other === null) return;
  const from = new URL(requested);
  const to = new URL(response.url);
  throw new EngineError(
    ErrorCode.CrossOriginRedirect,
    `${what}: ${requested} was redirected to another origin (${to.origin}). Bundles are only downloaded from the origin you added; `
      + 'add the address the files are really served from, or host the bundle without cross-origin redirects.',
    { file: requested, expected: from.origin, actual: to.origin },
  );
}
