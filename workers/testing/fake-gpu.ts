/** Tests of the WebGPU paths without a GPU: a stand-in `navigator.gpu` for the length of a test body. */

/** What the runtime calls on `navigator.gpu`. */
export interface FakeGpu {
  requestAdapter(options?: GPURequestAdapterOptions): Promise<unknown>;
}

/** Runs `body` with `navigator.gpu` = `gpu` (Node has no navigator), then puts `navigator` back as it was. */
export async function withNavigatorGpu<T>(gpu: FakeGpu, body: () => Promise<T>): Promise<T> {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  try {
    return await body();
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
}
