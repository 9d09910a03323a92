/**
 * Wiring the model manager into the app: one ModelManager per AppController, which decides what the
 * controller's loadModel loads (see ModelManager.startSource).
 */
import type { AppController } from '../app/controller.ts';
import { createModelsClient } from './client.ts';
import { ModelManager } from './manager.ts';

const managers = new WeakMap<AppController, ModelManager>();

/** Create the manager for `controller` and let it choose the start model. Call before controller.start(). */
export function installModelManager(controller: AppController): ModelManager {
  const existing = managers.get(controller);
  if (existing) return existing;
  const manager = new ModelManager(createModelsClient(), new URL(import.meta.env.BASE_URL, location.href).href);
  manager.attach({ reload: () => controller.model.load() });
  controller.modelSource = () => manager.startSource();
  managers.set(controller, manager);
  return manager;
}

/** The manager installed for `controller`, or null. */
export function managerFor(controller: AppController): ModelManager | null {
  return managers.get(controller) ?? null;
}
