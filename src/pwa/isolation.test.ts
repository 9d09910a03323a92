import { describe, expect, test } from 'vitest';
import { withIsolationHeaders } from './isolation.ts';

describe('withIsolationHeaders', () => {
  test('adds COOP, COEP credentialless and CORP, keeping status, other headers and the body', async () => {
    const r = withIsolationHeaders(new Response('<!doctype html>', { status: 200, headers: { 'Content-Type': 'text/html', ETag: '"x"' } }));
    expect(r.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
    expect(r.headers.get('Cross-Origin-Embedder-Policy')).toBe('credentialless');
    expect(r.headers.get('Cross-Origin-Resource-Policy')).toBe('same-origin');
    expect(r.headers.get('Content-Type')).toBe('text/html');
    expect(r.headers.get('ETag')).toBe('"x"');
    expect(await r.text()).toBe('<!doctype html>');
  });

  test('keeps an existing CORP and returns responses that already carry everything unchanged', () => {
    const done = new Response('x', { headers: {
      'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'credentialless', 'Cross-Origin-Resource-Policy': 'cross-origin',
    } });
    expect(withIsolationHeaders(done)).toBe(done);
    const corp = withIsolationHeaders(new Response('x', { headers: { 'Cross-Origin-Resource-Policy': 'cross-origin' } }));
    expect(corp.headers.get('Cross-Origin-Resource-Policy')).toBe('cross-origin');
  });

  test('leaves redirects and network errors alone', () => {
    const redirect = new Response(null, { status: 302, headers: { Location: '/x' } });
    expect(withIsolationHeaders(redirect)).toBe(redirect);
    const failed = Response.error();
    expect(withIsolationHeaders(failed)).toBe(failed);
  });
});
