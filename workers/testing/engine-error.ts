/** Test helpers: the EngineError a call throws or a promise rejects with (the test fails otherwise). */
import { expect } from 'vitest';
import { EngineError } from '../errors.ts';

/** The EngineError that `f` throws. */
export function thrownEngineError(f: () => unknown): EngineError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an EngineError');
}

/** The EngineError that `p` rejects with. */
export async function rejectedEngineError(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected a rejection');
}
