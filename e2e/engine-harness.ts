/** Test page script: starts the real generation worker and exposes it as `window.engineHarness`. */
import { proxy, wrap, type Remote } from 'comlink';
import type { EngineApi, Progress } from '../workers/protocol.ts';

const worker = new Worker(new URL('../workers/generator.worker.ts', import.meta.url), { type: 'module' });
const api: Remote<EngineApi> = wrap<EngineApi>(worker);
const progress: Progress[] = [];

const harness = {
  api,
  progress,
  /** generate with progress recorded in `progress`. */
  generate: (runId: string, request: Parameters<EngineApi['generate']>[1]) =>
    api.generate(runId, request, proxy((p: Progress) => { progress.push(p); })),
};

declare global {
  interface Window { engineHarness: typeof harness }
}
window.engineHarness = harness;
document.body.dataset.ready = 'true';
