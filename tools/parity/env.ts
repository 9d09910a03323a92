/** Builds a parity environment from a bundle source; shared by the Node CLI and the browser harness. */
import { Engine } from '../../workers/engine.ts';
import type { BundleSourceData } from '../../workers/protocol.ts';
import type { SchedulerConfig } from '../../workers/schedulers/types.ts';
import type { ParityEnv, ParityEp } from './core.ts';

/** Load the bundle on the given provider (WebGPU loops graph-captured when asked) and wrap it for the parity core. */
export async function loadParityEnv(source: BundleSourceData, ep: ParityEp, toleranceScale = 1, graphCapture = false): Promise<{ env: ParityEnv; engine: Engine }> {
  const engine = await Engine.load(source, { provider: ep }, { graphCapture });
  if (engine.runtime.ep !== ep) throw new Error(`asked for ${ep} but the runtime runs on ${engine.runtime.ep}`);
  const env: ParityEnv = {
    runner: engine.runtime,
    model: engine.model,
    tokenizer: engine.tokenizer,
    ...(engine.multilingualTokenizer ? { multilingualTokenizer: engine.multilingualTokenizer } : {}),
    priorSchedulerConfig: engine.bundle.manifest.schedulers.prior as SchedulerConfig,
    ep,
    toleranceScale,
  };
  return { env, engine };
}
