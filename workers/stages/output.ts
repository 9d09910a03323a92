/** Reading a stage's outputs: a named float32 tensor, or STAGE_MISMATCH naming what came back. */
import { EngineError, ErrorCode } from '../errors.ts';
import type { StageOutputs, StageResult } from '../runtime/stage-io.ts';
import type { StageName } from '../runtime/types.ts';
import type { F32Tensor } from '../tensor/tensor.ts';

/** Take a float32 output of a stage, failing clearly when it is absent. */
export function output<S extends StageName>(outputs: StageResult<S>, name: StageOutputs<S>, stage: S): F32Tensor {
  const t = (outputs as Partial<Record<string, F32Tensor | { type: string }>>)[name];
  if (!t || t.type !== 'float32') {
    throw new EngineError(ErrorCode.StageMismatch, `Stage '${stage}' returned no float32 output '${name}'.`, {
      file: stage,
      expected: name,
      actual: Object.keys(outputs).join(', '),
    });
  }
  return t as F32Tensor;
}

/** A tensor of one timestep per batch entry (float32 [B]), as the prior and the UNets take it. */
export function timesteps(t: number, batch: number): F32Tensor {
  return { type: 'float32', data: new Float32Array(batch).fill(t), dims: [batch] };
}
