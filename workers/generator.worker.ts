/// <reference lib="webworker" />
/** The generation worker: exposes EngineApi over comlink. */
import { expose } from 'comlink';
import { EngineService } from './service.ts';

expose(new EngineService());
