/**
 * The Content-Security-Policy of the built app (README, "Security"). One policy, delivered three ways:
 * by `vite preview` as a header, by the service worker on every response it serves (pages and worker
 * scripts: a worker runs under the policy of its own script's response), and as a
 * `<meta http-equiv>` in the built index.html for hosts that set no headers (a meta policy covers the
 * page only, and cannot carry `frame-ancestors`). The dev server gets none: its React refresh
 * preamble is an inline script.
 *
 * - `script-src 'self' 'wasm-unsafe-eval'`: onnxruntime-web and hash-wasm compile WebAssembly; ORT's
 *   wasm threads are module workers started from its own same-origin .mjs (a blob: worker only for a
 *   cross-origin script, which we never use), so no `blob:` and no `'unsafe-eval'`.
 * - `connect-src`: the app's origin plus exactly what the model URL rule admits (workers/storage/sources.ts):
 *   any https host, and http on this computer. A policy is fixed when a page or worker starts, so a
 *   list of the hosts already added would block the download of the host being added now.
 * - `img-src blob:`: gallery thumbnails are object URLs of their PNGs. No inline script or style anywhere.
 */

/** Hosts the policy lets the app reach over plain http (the URL rule's loopback hosts; CSP cannot name IPv6 literals). */
const LOOPBACK_HTTP = ['http://localhost:*', 'http://127.0.0.1:*'] as const;

/** Directives shared by the header and the meta tag. */
const DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'"],
  'connect-src': ["'self'", 'https:', ...LOOPBACK_HTTP],
  'img-src': ["'self'", 'blob:'],
  'style-src': ["'self'"],
  'font-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
} as const satisfies Record<string, readonly string[]>;

const serialise = (d: Record<string, readonly string[]>): string => Object.entries(d).map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');

/** The policy as a response header (adds `frame-ancestors`, which a meta tag cannot carry). */
export const CONTENT_SECURITY_POLICY = serialise({ ...DIRECTIVES, 'frame-ancestors': ["'none'"] });

/** The same policy for `<meta http-equiv="Content-Security-Policy">` in the built index.html. */
export const META_CONTENT_SECURITY_POLICY = serialise(DIRECTIVES);

/** `response` with the policy header; opaque, error and redirect responses are returned as they are. */
export function withContentSecurityPolicy(response: Response): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.type === 'error' || response.status === 0) return response;
  if (response.status >= 300 && response.status < 400) return response;
  if (response.headers.get('Content-Security-Policy') === CONTENT_SECURITY_POLICY) return response;
  const headers = new Headers(response.headers);
  headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
