import { inject } from 'vitest';

/** URL of the dev server that global-setup started. */
export function baseUrl(): string {
  return inject('baseUrl');
}
