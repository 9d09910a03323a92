import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCode } from '../errors.ts';
import { bundlePathProblem, checkBundlePath, isUnder, resolveBundlePath } from './bundle-path.ts';

const folder = new URL('https://models.example/k/v1/');

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('the bundle path rule', () => {
  // Each of these resolved outside the folder with `new URL(path, folder)` (issue 13: variants.json and manifest paths).
  it.each([
    ['backslashes', '\\\\evil.example\\m\\unet.onnx'],
    ['tab and newline inside', '\t/\t/evil.example/m/unet.onnx'],
    ['a newline inside a scheme', 'ht\ntps://evil.example/unet.onnx'],
    ['%2e%2e segments', '%2e%2e/%2E%2e/x/unet.onnx'],
    ['a %2f slash', '..%2funet.onnx'],
    ['a %5c backslash', 'a%5C..%5Cunet.onnx'],
    ['leading spaces', '  //evil.example/m/unet.onnx'],
    ['a trailing space', 'unet.onnx '],
    ['a data: URL', 'data:application/octet-stream;base64,AAAA'],
    ['an https URL', 'https://evil.example/unet.onnx'],
    ['a protocol-relative URL', '//evil.example/unet.onnx'],
    ['an absolute path', '/etc/passwd'],
    ['a ".." segment', 'a/../../unet.onnx'],
    ['a "./" segment', './unet.onnx'],
    ['an empty segment', 'a//unet.onnx'],
    ['a NUL', 'unet\u0000.onnx'],
    ['a lone surrogate', 'unet\uD800.onnx'],
  ])('refuses %s with BAD_MANIFEST naming the field', (_what, path) => {
    expect(bundlePathProblem(path)).not.toBeNull();
    const e = thrown(() => resolveBundlePath(folder, path, 'stages.unet.file'));
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe(ErrorCode.BadManifest);
    expect((e as EngineError).message).toContain('"stages.unet.file"');
  });

  it('accepts plain relative paths and resolves them as file names (each segment percent-encoded)', () => {
    expect(resolveBundlePath(folder, 'unet.onnx', 'f').href).toBe('https://models.example/k/v1/unet.onnx');
    expect(resolveBundlePath(folder, 'tokenizer/tokenizer.json', 'f').href).toBe('https://models.example/k/v1/tokenizer/tokenizer.json');
    expect(resolveBundlePath(folder, 'a b#c?.onnx', 'f').href).toBe('https://models.example/k/v1/a%20b%23c%3F.onnx');
    expect(resolveBundlePath(folder, '...', 'f').href).toBe('https://models.example/k/v1/...');
    expect(resolveBundlePath(folder, 'fp16/', 'variants[0].path', 'folder').href).toBe('https://models.example/k/v1/fp16/');
    expect(bundlePathProblem('fp16/', 'file')).toMatch(/empty segment/);
  });

  it('names the field and the file in the error data', () => {
    const e = thrown(() => checkBundlePath(' x', 'text.tokenizer', 'https://h/m/manifest.json')) as EngineError;
    expect(e.toData()).toMatchObject({ code: 'BAD_MANIFEST', file: 'https://h/m/manifest.json', expected: expect.stringContaining('text.tokenizer') });
    expect(e.message).toMatch(/whitespace/);
    expect((thrown(() => checkBundlePath(7, 'stages.unet.file', 'm')) as EngineError).code).toBe('BAD_MANIFEST');
  });
});

/** Characters the URL parser treats specially, plus ordinary ones. */
const TRICKY = ['.', '/', '\\', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', ':', '?', '#', '@', ' ', '\t', '\n', '\r', '\u0000', '\u00a0',
  '\u3002', '\uff0e', '\uD800', 'a', 'x', '~', '\u00e9'];
/** Whole pieces that mean something to the parser. */
const PIECES = ['..', '.', '', '%2e', '%2E%2e', '.%2e', '%2f', '%5C', '\\', '//', 'evil.example', 'https:', 'data:', 'file:', 'C:', ' ', '\t',
  'x y', 'fp16', 'unet.onnx', '?q', '#h', '%', '%25', '\u2024\u2024', '@evil'];

/** Strings likely to be paths, mixtures of the above: small, so 10^4 cases take well under a second. */
const paths = fc.oneof(
  fc.string({ unit: fc.constantFrom(...TRICKY), maxLength: 12 }),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 5 }).map((parts) => parts.join('/')),
  fc.array(fc.constantFrom(...PIECES, ...TRICKY), { maxLength: 6 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 10 }),
);

describe('the bundle path rule (property-based, seeded)', () => {
  it('never throws untyped, and nothing it accepts resolves outside the folder, encoded or not', () => {
    const folders = [folder, new URL('http://127.0.0.1:8080/'), new URL('https://h.example/a%20b/c/')];
    const stats = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(paths, fc.constantFrom(...folders), fc.constantFrom('file' as const, 'folder' as const), (path, base, kind) => {
        let url: URL | null = null;
        try {
          url = resolveBundlePath(base, path, 'f', kind);
        } catch (e) {
          // Only typed refusals, and only for paths the rule itself names a problem with.
          expect(e).toBeInstanceOf(EngineError);
          expect((e as EngineError).code).toBe(ErrorCode.BadManifest);
          expect(bundlePathProblem(path, kind)).not.toBeNull();
          stats.refused++;
          return;
        }
        stats.accepted++;
        expect(isUnder(url, base)).toBe(true);
        // The rule alone (without the encoding) keeps the plain `new URL(path, folder)` in the folder too.
        const plain = new URL(path, base);
        expect(plain.origin).toBe(base.origin);
        expect(plain.pathname.startsWith(base.pathname)).toBe(true);
      }),
      { seed: 13, numRuns: 10_000 },
    );
    // Both branches are exercised, or the property says nothing.
    expect(stats.accepted).toBeGreaterThan(500);
    expect(stats.refused).toBeGreaterThan(500);
  });
});
