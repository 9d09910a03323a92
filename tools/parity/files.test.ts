import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ParityEnv } from './core.ts';
import { goldenFiles, runGoldenFiles } from './files.ts';

describe('golden files on disk', () => {
  it('lists the .json cases in name order and refuses a missing or empty folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'golden-'));
    writeFileSync(join(dir, 'b.json'), '{}');
    writeFileSync(join(dir, 'a.json'), '{}');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    expect(await goldenFiles(dir)).toEqual(['a.json', 'b.json']);
    await expect(goldenFiles(join(dir, 'nope'))).rejects.toThrow(/golden directory not found/);
    const empty = mkdtempSync(join(tmpdir(), 'golden-empty-'));
    await expect(goldenFiles(empty)).rejects.toThrow(/no \.json golden files/);
  });

  it('fails a case that cannot be read or is not JSON, and goes on to the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'golden-bad-'));
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    mkdirSync(join(dir, 'folder.json'));
    const reports = [];
    // Neither case gets as far as the model, so no environment is needed.
    for await (const r of runGoldenFiles({} as ParityEnv, dir, await goldenFiles(dir))) reports.push(r);
    expect(reports.map((r) => r.pass)).toEqual([false, false]);
    expect(reports[0]!.line).toMatch(/^broken \? Infinity 0 FAIL {2}# not JSON/);
    expect(reports[1]!.line).toMatch(/^folder \? Infinity 0 FAIL {2}# cannot read/);
  });
});
