/** The UI's door to the models worker (ModelStore over comlink). */
import { proxy, wrap, type Remote } from 'comlink';
import type { Result } from '../../workers/protocol.ts';
import type { AddProgress, AddRequest, ModelStoreApi, StoredBundle } from '../../workers/storage/protocol.ts';

/** What the model manager needs: ModelStoreApi with a plain progress callback (ModelStore itself fits, in tests). */
export type ModelsApi = Pick<ModelStoreApi, 'usage' | 'gpu' | 'list' | 'cancel' | 'remove' | 'open' | 'setActive' | 'active'> & {
  add(request: AddRequest, onProgress?: (p: AddProgress) => void): Promise<Result<StoredBundle>>;
};

/** Start the models worker and wrap it. */
export function createModelsClient(): ModelsApi & { dispose(): void } {
  const worker = new Worker(new URL('../../workers/models.worker.ts', import.meta.url), { type: 'module', name: 'models' });
  const api: Remote<ModelStoreApi> = wrap<ModelStoreApi>(worker);
  return {
    usage: () => api.usage(),
    gpu: () => api.gpu(),
    list: () => api.list(),
    add: (request, onProgress) => api.add(request, onProgress ? proxy(onProgress) : undefined),
    cancel: (id) => { void api.cancel(id); },
    remove: (id) => api.remove(id),
    open: (id) => api.open(id),
    setActive: (id) => api.setActive(id),
    active: () => api.active(),
    dispose: () => worker.terminate(),
  };
}
