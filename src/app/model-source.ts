/** What the app loads as its model: a name and a bundle source; the built-in one's URL is built here only (its path lives in workers/builtin.ts). */
import { BUILTIN_MODEL } from '../../workers/builtin.ts';
import type { BundleSourceData } from '../../workers/protocol.ts';

/** A model to load: its name (shown while loading) and where its bundle is. */
export interface ModelChoice {
  readonly name: string;
  readonly source: BundleSourceData;
}

/** The built-in model, served from public/ under the app's base URL `baseHref`. */
export function builtinModel(baseHref: string): ModelChoice {
  return { name: BUILTIN_MODEL.name, source: { kind: 'url', baseUrl: new URL(BUILTIN_MODEL.path, baseHref).href } };
}
