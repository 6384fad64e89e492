import { defineAdapter } from '../adapters/define-adapter.js';
import { createMemoryAdapter } from './memory-adapter.js';

/** The built-in `memory` adapter as configuration names it: nothing persists beyond the process. */
export const memoryAdapterFactory = defineAdapter({
  name: 'memory',
  async open(_options, context) {
    const adapter = createMemoryAdapter({ limits: context.limits, template: context.template });
    return { ...adapter, description: 'memory (not persistent)', close: async () => undefined };
  },
});
