import { describe, expect, test } from 'vitest';
import { toErrorData } from '../errors.ts';
import {
  markReady, newRecord, parseRecord, pendingFiles, reconcile, summarise, withAbsent, withError, withReset, withValidator, withVerified,
  type BundleRecord,
} from './state.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function record(): BundleRecord {
  return newRecord({
    id: 'tiny', name: 'tiny', description: '', family: 'kandinsky-2.2',
    source: { kind: 'url', label: 'http://h/tiny/', baseUrl: 'http://h/tiny/', key: 'url:http://h/tiny/' },
    variant: null, manifestSha256: SHA_A, stages: ['text_encoder', 'prior', 'unet', 'movq_decoder'],
    files: [
      { path: 'unet.onnx', bytes: 10, sha256: SHA_A, optional: false },
      { path: 'tokenizer/tokenizer.json', bytes: null, sha256: null, optional: false },
      { path: 'tokenizer/tokenizer_config.json', bytes: null, sha256: null, optional: true },
    ],
    now: 1,
  });
}

function catchData(f: () => unknown) {
  try { f(); } catch (e) { return toErrorData(e); }
  throw new Error('expected a throw');
}

describe('bundle state transitions', () => {
  test('a new record is incomplete with every file pending', () => {
    const r = record();
    expect(r.status).toBe('incomplete');
    expect(pendingFiles(r).map((f) => f.path)).toEqual(['unet.onnx', 'tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json']);
  });

  test('never ready while a file is unverified: markReady names the missing files', () => {
    let r = withVerified(record(), 'unet.onnx', { bytes: 10, sha256: SHA_A }, 2);
    const err = catchData(() => markReady(r, 3));
    expect(err.code).toBe('INTEGRITY_MISMATCH');
    expect(err.message).toContain('tokenizer/tokenizer.json');
    r = withVerified(r, 'tokenizer/tokenizer.json', { bytes: 5, sha256: SHA_B }, 3);
    // The optional config is still neither verified nor known absent.
    expect(() => markReady(r, 4)).toThrow(/tokenizer_config/);
    r = withAbsent(r, 'tokenizer/tokenizer_config.json', 4);
    expect(markReady(r, 5).status).toBe('ready');
  });

  test('a wrong size or hash is refused (the file stays unverified)', () => {
    expect(catchData(() => withVerified(record(), 'unet.onnx', { bytes: 9, sha256: SHA_A }, 2))).toMatchObject({ code: 'INTEGRITY_MISMATCH', expected: '10', actual: '9' });
    expect(catchData(() => withVerified(record(), 'unet.onnx', { bytes: 10, sha256: SHA_B }, 2))).toMatchObject({ code: 'INTEGRITY_MISMATCH', file: 'unet.onnx' });
  });

  test('a required file can never be absent', () => {
    expect(catchData(() => withAbsent(record(), 'unet.onnx', 2)).code).toBe('MISSING_FILE');
  });

  test('any file change after ready makes the bundle incomplete again', () => {
    const ready = markReady(withAbsent(withVerified(withVerified(record(), 'unet.onnx', { bytes: 10, sha256: SHA_A }, 2),
      'tokenizer/tokenizer.json', { bytes: 5, sha256: SHA_B }, 2), 'tokenizer/tokenizer_config.json', 2), 3);
    expect(ready.status).toBe('ready');
    expect(withReset(ready, 'unet.onnx', 4).status).toBe('incomplete');
    expect(withValidator(ready, 'unet.onnx', { etag: '"x"', lastModified: null }, 4).status).toBe('incomplete');
    expect(withValidator(ready, 'unet.onnx', null, 4).files[0]!.verified).toBe(false);
  });

  test('reconcile drops a ready bundle whose file vanished or changed size', () => {
    const ready = markReady(withAbsent(withVerified(withVerified(record(), 'unet.onnx', { bytes: 10, sha256: SHA_A }, 2),
      'tokenizer/tokenizer.json', { bytes: 5, sha256: SHA_B }, 2), 'tokenizer/tokenizer_config.json', 2), 3);
    const intact = new Map([['unet.onnx', 10], ['tokenizer/tokenizer.json', 5]]);
    expect(reconcile(ready, intact, 4)).toBe(ready);
    const lost = reconcile(ready, new Map([['unet.onnx', null], ['tokenizer/tokenizer.json', 5]]), 4);
    expect(lost.status).toBe('incomplete');
    expect(lost.lastError?.code).toBe('MISSING_FILE');
    expect(pendingFiles(lost).map((f) => f.path)).toEqual(['unet.onnx']);
    expect(reconcile(ready, new Map([['unet.onnx', 10], ['tokenizer/tokenizer.json', 4]]), 4).status).toBe('incomplete');
  });

  test('an error is recorded without changing readiness', () => {
    const r = withError(record(), { code: 'NETWORK_ERROR', message: 'x' }, 2);
    expect(r.status).toBe('incomplete');
    expect(r.lastError?.code).toBe('NETWORK_ERROR');
  });

  test('summaries count verified files and modes; memory storage is never "offline"', () => {
    const r = withVerified(record(), 'unet.onnx', { bytes: 10, sha256: SHA_A }, 2);
    const s = summarise(r, 'opfs', new Map([['unet.onnx', 10], ['tokenizer/tokenizer.json', 3]]));
    expect(s).toMatchObject({ fileCount: 3, verifiedCount: 1, bytes: 13, storedBytes: 13, offline: false, status: 'incomplete' });
    expect(s.modes).toMatchObject({ text2img: true, inpaint: false, variations: false, imageFusion: false });
    const ready = markReady(withAbsent(withVerified(r, 'tokenizer/tokenizer.json', { bytes: 3, sha256: SHA_B }, 2), 'tokenizer/tokenizer_config.json', 2), 3);
    expect(summarise(ready, 'opfs', new Map()).offline).toBe(true);
    expect(summarise(ready, 'memory', new Map()).offline).toBe(false);
  });

  test('state.json round-trips; anything else is refused with the reason', () => {
    const r = record();
    expect(parseRecord(JSON.stringify(r))).toEqual({ ok: true, record: r });
    expect(parseRecord('{"version":2}')).toEqual({ ok: false, reason: 'state.json: "version" is not 1' });
    expect(parseRecord('not json')).toEqual({ ok: false, reason: 'state.json is not JSON' });
  });
});
