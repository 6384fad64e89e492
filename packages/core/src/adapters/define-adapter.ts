import type { AdapterFactory } from '../contracts/adapter-factory.js';

/** Types an adapter module's default export; returns the factory unchanged. */
export function defineAdapter<Options extends Record<string, unknown>>(factory: AdapterFactory<Options>): AdapterFactory<Options> {
  return factory;
}
