import { describe, expect, test } from 'vitest';
import { CONTENT_SECURITY_POLICY, META_CONTENT_SECURITY_POLICY, withContentSecurityPolicy } from './csp.ts';

const directives = (policy: string) => new Map(policy.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));

describe('the Content-Security-Policy', () => {
  test('scripts only from the app (plus wasm compilation); nothing inline, no eval, no plugins', () => {
    const d = directives(CONTENT_SECURITY_POLICY);
    expect(d.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(d.get('style-src')).toEqual(["'self'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|'unsafe-eval'|data:/);
    expect([...directives(CONTENT_SECURITY_POLICY).values()].flat()).not.toContain('*');
  });

  test('connect-src admits what the model URL rule admits: the app, https hosts, http on this computer', () => {
    expect(directives(CONTENT_SECURITY_POLICY).get('connect-src')).toEqual(["'self'", 'https:', 'http://localhost:*', 'http://127.0.0.1:*']);
  });

  test('the meta form is the header without frame-ancestors (which a meta tag cannot carry)', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(`${META_CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`);
  });

  test('withContentSecurityPolicy adds the header and keeps status, headers and body; leaves redirects and errors alone', async () => {
    const r = withContentSecurityPolicy(new Response('<!doctype html>', { status: 200, headers: { 'Content-Type': 'text/html' } }));
    expect(r.headers.get('Content-Security-Policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(r.headers.get('Content-Type')).toBe('text/html');
    expect(await r.text()).toBe('<!doctype html>');
    expect(withContentSecurityPolicy(r)).toBe(r);
    const redirect = new Response(null, { status: 302, headers: { Location: '/x' } });
    expect(withContentSecurityPolicy(redirect)).toBe(redirect);
    const failed = Response.error();
    expect(withContentSecurityPolicy(failed)).toBe(failed);
  });
});
