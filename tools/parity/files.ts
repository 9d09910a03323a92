/** Golden case files on disk (Node): the parity CLI's Node runner and tools/gpu's parity on a real GPU share this. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runGoldenText, type CaseReport, type ParityEnv } from './core.ts';

/** The golden case files (`*.json`) of a folder, in name order; throws when there is no folder or no case. */
export async function goldenFiles(dir: string): Promise<string[]> {
  const s = await stat(dir).catch(() => null);
  if (!s?.isDirectory()) throw new Error(`golden directory not found: ${dir}`);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no .json golden files in ${dir}`);
  return files;
}

/** Runs the files one after another against `env`, yielding each case's report (a file that cannot be read fails). */
export async function* runGoldenFiles(env: ParityEnv, dir: string, files: readonly string[]): AsyncGenerator<CaseReport> {
  for (const file of files) {
    const name = basename(file, '.json');
    let json: string;
    try {
      json = await readFile(join(dir, file), 'utf8');
    } catch (e) {
      yield { line: `${name} ? Infinity 0 FAIL  # cannot read: ${e instanceof Error ? e.message : String(e)}`, pass: false, details: [] };
      continue;
    }
    yield await runGoldenText(name, json, env);
  }
}
