/// <reference lib="webworker" />
/**
 * The models worker: exposes ModelStore (downloads, verification, OPFS storage) over comlink. It is
 * separate from the generation worker so downloads never wait for a run (and the reverse), and so
 * the generation worker's API stays as it is.
 */
import { expose } from 'comlink';
import { BUILTIN_MODEL } from './builtin.ts';
import { ModelStore } from './storage/api.ts';

const builtinUrl = new URL(`${import.meta.env.BASE_URL}${BUILTIN_MODEL.path}`, self.location.origin).href;
expose(new ModelStore({ builtinUrl, baseHref: self.location.origin + import.meta.env.BASE_URL }));
