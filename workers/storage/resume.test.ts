import { describe, expect, test } from 'vitest';
import { ifRangeValue, interpretResponse, parseContentRange, planRequest, validatorOf } from './resume.ts';

const strong = { etag: '"abc"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' };

describe('planRequest', () => {
  test('nothing stored: whole file, no Range', () => {
    expect(planRequest({ stored: 0, expectedBytes: 100, hasHash: true, validator: strong })).toEqual({ start: 0, headers: {} });
  });

  test('a stored prefix resumes with Range and If-Range on the strong ETag', () => {
    expect(planRequest({ stored: 40, expectedBytes: 100, hasHash: true, validator: strong })).toEqual({
      start: 40, headers: { Range: 'bytes=40-', 'If-Range': '"abc"' },
    });
  });

  test('a weak ETag cannot guard If-Range: Last-Modified is used instead', () => {
    const plan = planRequest({ stored: 40, expectedBytes: 100, hasHash: true, validator: { etag: 'W/"abc"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' } });
    expect(plan.headers['If-Range']).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
  });

  test('no validator but a manifest hash: Range alone (verification catches a stale prefix)', () => {
    expect(planRequest({ stored: 40, expectedBytes: 100, hasHash: true, validator: null })).toEqual({ start: 40, headers: { Range: 'bytes=40-' } });
  });

  test('no validator and no hash: a prefix cannot be trusted, start over', () => {
    expect(planRequest({ stored: 40, expectedBytes: null, hasHash: false, validator: null })).toEqual({ start: 0, headers: {} });
  });

  test('a prefix as long as (or longer than) the file is re-fetched whole', () => {
    expect(planRequest({ stored: 100, expectedBytes: 100, hasHash: true, validator: strong }).start).toBe(0);
    expect(planRequest({ stored: 120, expectedBytes: 100, hasHash: true, validator: strong }).start).toBe(0);
  });
});

describe('validators', () => {
  test('ifRangeValue prefers a strong ETag, falls back to Last-Modified, else null', () => {
    expect(ifRangeValue(strong)).toBe('"abc"');
    expect(ifRangeValue({ etag: null, lastModified: 'x' })).toBe('x');
    expect(ifRangeValue({ etag: 'W/"a"', lastModified: null })).toBeNull();
    expect(ifRangeValue(null)).toBeNull();
  });

  test('validatorOf reads ETag and Last-Modified', () => {
    expect(validatorOf(new Headers({ ETag: '"e"' }))).toEqual({ etag: '"e"', lastModified: null });
    expect(validatorOf(new Headers())).toBeNull();
  });
});

describe('parseContentRange', () => {
  test('parses satisfied ranges', () => {
    expect(parseContentRange('bytes 40-99/100')).toEqual({ first: 40, last: 99, complete: 100 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ first: 0, last: 9, complete: null });
  });
  test('rejects malformed or inconsistent ranges', () => {
    expect(parseContentRange(null)).toBeNull();
    expect(parseContentRange('bytes */100')).toBeNull();
    expect(parseContentRange('bytes 50-40/100')).toBeNull();
    expect(parseContentRange('bytes 0-100/100')).toBeNull();
    expect(parseContentRange('items 0-1/2')).toBeNull();
  });
});

describe('interpretResponse', () => {
  const resume = planRequest({ stored: 40, expectedBytes: 100, hasHash: true, validator: strong });
  const fresh = planRequest({ stored: 0, expectedBytes: 100, hasHash: true, validator: null });

  test('206 with the asked-for start appends', () => {
    expect(interpretResponse(resume, 206, new Headers({ 'Content-Range': 'bytes 40-99/100' })))
      .toEqual({ kind: 'append', start: 40, total: 100 });
  });

  test('200 to a range request (If-Range mismatch or no range support) restarts from 0', () => {
    const a = interpretResponse(resume, 200, new Headers({ 'Content-Length': '100' }));
    expect(a.kind).toBe('restart');
    if (a.kind === 'restart') {
      expect(a.total).toBe(100);
      expect(a.reason).toMatch(/If-Range/);
    }
  });

  test('200 to a plain request appends from 0 with the Content-Length as total', () => {
    expect(interpretResponse(fresh, 200, new Headers({ 'Content-Length': '100' }))).toEqual({ kind: 'append', start: 0, total: 100 });
  });

  test('206 from another offset is an error, from 0 a restart', () => {
    expect(interpretResponse(resume, 206, new Headers({ 'Content-Range': 'bytes 30-99/100' })).kind).toBe('error');
    expect(interpretResponse(resume, 206, new Headers({ 'Content-Range': 'bytes 0-99/100' })).kind).toBe('restart');
    expect(interpretResponse(resume, 206, new Headers({ 'Content-Range': 'bytes x' })).kind).toBe('error');
  });

  test('206 whose Content-Range CORS hides is taken as the asked-for range', () => {
    expect(interpretResponse(resume, 206, new Headers())).toEqual({ kind: 'append', start: 40, total: null });
  });

  test('416 retries without a range; 404 is missing; 500 an error', () => {
    expect(interpretResponse(resume, 416, new Headers()).kind).toBe('retry-full');
    expect(interpretResponse(fresh, 404, new Headers())).toEqual({ kind: 'missing', status: 404 });
    expect(interpretResponse(fresh, 500, new Headers())).toMatchObject({ kind: 'error', status: 500 });
  });
});
