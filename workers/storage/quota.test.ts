import { describe, expect, test } from 'vitest';
import { EngineError, toErrorData } from '../errors.ts';
import { checkSpace, isQuotaError, mapQuotaError } from './quota.ts';
import { formatBytes, formatDuration, formatSpeed } from './format.ts';

describe('checkSpace', () => {
  test('passes when the bundle fits, throws QUOTA_EXCEEDED with figures when it does not', () => {
    expect(() => checkSpace(100e6, { usage: 1e9, quota: 10e9 }, 'the model')).not.toThrow();
    let caught: unknown;
    try { checkSpace(5.2e9, { usage: 9e9, quota: 10e9 }, 'kandinsky-2-2'); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(EngineError);
    const data = toErrorData(caught);
    expect(data.code).toBe('QUOTA_EXCEEDED');
    expect(data.message).toContain('5.20 GB');
    expect(data.message).toContain('1.00 GB');
    expect(data.message).toMatch(/Delete a model/);
  });

  test('without an estimate (or missing fields) it cannot judge and lets the download try', () => {
    expect(() => checkSpace(1e12, null, 'x')).not.toThrow();
    expect(() => checkSpace(1e12, { usage: 1 }, 'x')).not.toThrow();
  });
});

describe('quota error mapping', () => {
  test('QuotaExceededError (DOMException), legacy code 22 and the Firefox name count as quota errors', () => {
    expect(isQuotaError(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
    expect(isQuotaError({ name: 'Error', code: 22 })).toBe(true);
    expect(isQuotaError(new Error('other'))).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });

  test('mapQuotaError names the file and says the download resumes; other errors pass through', () => {
    const mapped = toErrorData(mapQuotaError(new DOMException('full', 'QuotaExceededError'), 'unet.onnx', 2e9));
    expect(mapped).toMatchObject({ code: 'QUOTA_EXCEEDED', file: 'unet.onnx' });
    expect(mapped.message).toMatch(/unet\.onnx.*2\.00 GB.*resumes/);
    const other = new Error('x');
    expect(mapQuotaError(other, 'f', 0)).toBe(other);
  });
});

describe('format', () => {
  test('bytes, speed and durations', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.54 KB');
    expect(formatBytes(19_000_000)).toBe('19.0 MB');
    expect(formatBytes(5.2e9)).toBe('5.20 GB');
    expect(formatSpeed(12_345_678)).toBe('12.3 MB/s');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(45.2)).toBe('45 s');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(3900)).toBe('1 h 05 min');
  });
});
