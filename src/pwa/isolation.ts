/**
 * Cross-origin isolation from the service worker, for static hosts that cannot set headers
 * (the approach of coi-serviceworker): same-origin responses get COOP/COEP added. COEP is
 * `credentialless`, so cross-origin model downloads (CORS) and no-cors images keep working.
 */

/** The headers vite.config.ts sets in dev and preview; the service worker adds the same. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
} as const;

/** `response` with the isolation headers (and CORP for subresources); opaque or error responses are returned as they are. */
export function withIsolationHeaders(response: Response): Response {
  // Opaque (no-cors cross-origin) and network-error responses cannot be rebuilt; redirects must stay redirects.
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.type === 'error' || response.status === 0) return response;
  if (response.status >= 300 && response.status < 400) return response;
  const has = Object.entries(ISOLATION_HEADERS).every(([k, v]) => response.headers.get(k) === v);
  if (has && response.headers.has('Cross-Origin-Resource-Policy')) return response;
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) headers.set(k, v);
  if (!headers.has('Cross-Origin-Resource-Policy')) headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
