/**
 * One lock per bundle across tabs (Web Locks API), so two tabs never download the same bundle at once:
 * the second is told it is waiting, then continues (usually finding the bundle ready).
 */

/** The part of navigator.locks we use. */
export interface LockManagerLike {
  request<T>(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

/** Fallback for contexts without navigator.locks (Node tests, old browsers): one queue per name, this context only. */
export class LocalLocks implements LockManagerLike {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly held = new Set<string>();

  async request<T>(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T> {
    if (options.ifAvailable && this.held.has(name)) return callback(null);
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    await previous;
    this.held.add(name);
    try {
      return await callback({ name });
    } finally {
      this.held.delete(name);
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}

/** navigator.locks where present, else a per-context fallback. */
export function defaultLocks(): LockManagerLike {
  const nav = globalThis.navigator as (Navigator & { locks?: LockManagerLike }) | undefined;
  return nav?.locks ?? new LocalLocks();
}

const WAIT = Symbol('wait');

/** Run `work` holding the lock `name`; if another holder has it, call `onWait` first and then wait for it. */
export async function withLock<T>(locks: LockManagerLike, name: string, onWait: () => void, work: () => Promise<T>): Promise<T> {
  const first = await locks.request<T | typeof WAIT>(name, { ifAvailable: true }, async (lock) => (lock ? work() : WAIT));
  if (first !== WAIT) return first as T;
  onWait();
  return locks.request<T>(name, {}, async () => work());
}
