import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { rejectsWithCode } from './assertions.js';
import { randomTenantId, randomTokenHash } from './fixtures.js';

function needsOutage(adapter: AdapterUnderTest): string | undefined {
  return adapter.outage === undefined ? 'the adapter cannot simulate an outage (no outage())' : undefined;
}

/** An unreachable backend is reported as such, so callers retry instead of treating it as "no such thing". */
export const outageCases: ConformanceCase[] = [
  {
    name: 'outage: every store reports an unreachable backend as BACKEND_UNAVAILABLE, never as "not found"',
    requires: needsOutage,
    async run({ adapter }) {
      await adapter.outage!();
      const tenantId = randomTenantId();
      if (adapter.tokens?.get)
        await rejectsWithCode(() => adapter.tokens!.get!(randomTokenHash()), 'BACKEND_UNAVAILABLE', 'tokens.get during an outage');
      if (adapter.configs)
        await rejectsWithCode(() => adapter.configs!.get(tenantId), 'BACKEND_UNAVAILABLE', 'configs.get during an outage');
      if (adapter.workspaces) {
        await rejectsWithCode(() => adapter.workspaces!.exists(tenantId), 'BACKEND_UNAVAILABLE', 'workspaces.exists during an outage');
        await rejectsWithCode(() => adapter.workspaces!.open(tenantId), 'BACKEND_UNAVAILABLE', 'workspaces.open during an outage');
      }
    },
  },
];
