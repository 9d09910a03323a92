/** Wiring the priors into the app: one PriorsController per AppController, whose hook gives requests their prior. */
import type { AppController } from '../app/controller.ts';
import { parseStartOptions } from '../app/start-options.ts';
import { decodeImageFile, decodePng, download } from '../app/files.ts';
import { DB_NAME } from '../app/persistence.ts';
import { PriorsController } from './priors.ts';
import { IdbPriorStore, MemoryPriorStore, priorDbName, type PriorStore } from './store.ts';

const installed = new WeakMap<AppController, PriorsController>();

/** Create the priors for `controller` and hook them in. Call before controller.start(). */
export function installPriors(controller: AppController): PriorsController {
  const existing = installed.get(controller);
  if (existing) return existing;
  const dbName = parseStartOptions(location.search).dbName;
  const open = async (): Promise<PriorStore> => (dbName === null ? new MemoryPriorStore() : IdbPriorStore.open(priorDbName(dbName ?? DB_NAME)));
  const storage = lazyStore(open);
  const priors = new PriorsController(controller, storage, { decodeFile: decodeImageFile, decodePng, download });
  controller.priorRequest = () => priors.requestPrior();
  // "Use these parameters" (gallery.reuse) also puts the result's prior back (after whatever was hooked in before).
  const previous = controller.onReuse;
  controller.onReuse = (params) => { previous?.(params); priors.restore(params.prior); };
  installed.set(controller, priors);
  void priors.start();
  return priors;
}

/** The priors installed for `controller`, or null. */
export function priorsFor(controller: AppController): PriorsController | null {
  return installed.get(controller) ?? null;
}

/** A store opened on first use (IndexedDB may be slow to open or unavailable). */
function lazyStore(open: () => Promise<PriorStore>): PriorStore {
  let opened: Promise<PriorStore> | null = null;
  const get = (): Promise<PriorStore> => (opened ??= open());
  return {
    list: async () => (await get()).list(),
    put: async (p) => (await get()).put(p),
    remove: async (id) => (await get()).remove(id),
    saveChoice: async (c) => (await get()).saveChoice(c),
    loadChoice: async () => (await get()).loadChoice(),
  };
}
