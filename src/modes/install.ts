/**
 * Wiring the modes into the app: one ModesController per AppController, whose hooks build every
 * run's request (the frame's own mode included) and restore a gallery result's inputs.
 */
import type { AppController } from '../app/controller.ts';
import { parseStartOptions } from '../app/start-options.ts';
import { decodeImageFile, decodePng } from '../app/files.ts';
import { DB_NAME } from '../app/persistence.ts';
import { IdbImageStore, imageDbName, lazyImageStore } from './image-store.ts';
import { ModesController } from './modes.ts';

const installed = new WeakMap<AppController, ModesController>();

/** Create the modes for `controller` and hook them in. Call before controller.start(). */
export function installModes(controller: AppController): ModesController {
  const existing = installed.get(controller);
  if (existing) return existing;
  // Beside the editor's autosave database (`?db=` picks another one, as for the editor).
  const dbName = parseStartOptions(location.search).dbName;
  const images = lazyImageStore(dbName === null ? null : () => IdbImageStore.open(imageDbName(dbName ?? DB_NAME)));
  const modes = new ModesController(controller, images, { decodeFile: decodeImageFile, decodePng });
  controller.modeRequest = (ctx) => modes.requestFor(ctx);
  controller.onReuse = (params) => { void modes.restore(params); };
  installed.set(controller, modes);
  void modes.start();
  return modes;
}

/** The modes installed for `controller`, or null. */
export function modesFor(controller: AppController): ModesController | null {
  return installed.get(controller) ?? null;
}
