/** Loaded into a Chromium page by the parity CLI (through Vite) to run cases on WebGPU or wasm. */
import { runGoldenText, type CaseReport, type ParityEnv, type ParityEp } from './core.ts';
import { loadParityEnv } from './env.ts';

let loaded: Promise<ParityEnv> | null = null;

/** Load the bundle once per page. */
export function prepare(bundleUrl: string, ep: ParityEp, toleranceScale: number, graphCapture: boolean): Promise<ParityEnv> {
  loaded ??= loadParityEnv({ kind: 'url', baseUrl: bundleUrl }, ep, toleranceScale, graphCapture).then((r) => r.env);
  return loaded;
}

/** Run one case in the page; returns the printable line, the verdict and (for --verbose) each quantity's line. */
export async function runCase(
  bundleUrl: string, ep: ParityEp, toleranceScale: number, graphCapture: boolean, name: string, json: string,
): Promise<CaseReport> {
  return runGoldenText(name, json, await prepare(bundleUrl, ep, toleranceScale, graphCapture));
}
