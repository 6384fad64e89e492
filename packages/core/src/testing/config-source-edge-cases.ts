import assert from 'node:assert/strict';
import type { ConfigSource } from '../contracts/config-source.js';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { assertSameFields, collect, rejectsWithCode } from './assertions.js';
import { randomTenantId } from './fixtures.js';

function needs(...what: Array<'changes' | 'list'>) {
  return (adapter: AdapterUnderTest): string | undefined => {
    const source = adapter.configs;
    if (source === undefined) return 'no config source';
    if (!source.capabilities.write) return 'the config source lacks the write capability';
    for (const flag of what) if (!source.capabilities[flag]) return `the config source lacks the ${flag} capability`;
    return undefined;
  };
}

function configs(adapter: AdapterUnderTest): Required<ConfigSource> {
  return adapter.configs as Required<ConfigSource>;
}

/** Rules of {@link ConfigSource} that hand-written adapters most often get wrong. */
export const configSourceEdgeCases: ConformanceCase[] = [
  {
    name: 'configs: versions keep increasing across remove',
    requires: needs(),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      await configs(adapter).set(tenantId, { config: { a: 1 } });
      await configs(adapter).set(tenantId, { config: { a: 2 } });
      assert.equal(await configs(adapter).remove(tenantId), true, 'remove: expected true for an existing entry');
      assert.equal(await configs(adapter).get(tenantId), undefined, 'get after remove: expected undefined');
      const again = await configs(adapter).set(tenantId, { config: { a: 3 } });
      assert.ok(again.version > 2, `set after remove: field "version" expected > 2, actual ${again.version}`);
      assert.equal(
        await configs(adapter).put({ ...again, version: 2, config: { stale: true } }),
        false,
        'put of a removed version: expected false',
      );
    },
  },
  {
    name: 'configs: a reader following the feed during concurrent writes misses no change (numbered in commit order)',
    requires: needs('changes'),
    async run({ adapter, reopen }) {
      const writer = configs(await reopen());
      const tenants = Array.from({ length: 40 }, () => randomTenantId('feed'));
      const latest = new Map<string, number>();
      let writing = true;
      const writes = Promise.all(tenants.flatMap((tenantId) => [1, 2].map((round) => writer.set(tenantId, { config: { round } })))).finally(
        () => {
          writing = false;
        },
      );
      let cursor = '';
      const follow = async () => {
        for (;;) {
          const page = await configs(adapter).changes(cursor, 7);
          for (const entry of page.entries) latest.set(entry.tenantId, Math.max(latest.get(entry.tenantId) ?? 0, entry.version));
          cursor = page.cursor;
          if (!page.hasMore) return;
        }
      };
      while (writing) {
        await follow();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await writes;
      await follow();
      for (const tenantId of tenants) {
        const current = await configs(adapter).get(tenantId);
        assert.equal(
          latest.get(tenantId),
          current?.version,
          `changes: tenant ${tenantId} field "version" expected ${current?.version} (its latest), actual ${latest.get(tenantId)} as seen by a reader following the feed`,
        );
      }
    },
  },
  {
    name: 'configs: changes lists the latest entry of each tenant in change order',
    requires: needs('changes'),
    async run({ adapter }) {
      const [a, b, c] = [randomTenantId('a'), randomTenantId('b'), randomTenantId('c')];
      await configs(adapter).set(a, { config: { n: 1 } });
      await configs(adapter).set(b, { config: { n: 1 } });
      await configs(adapter).set(c, { config: { n: 1 } });
      await configs(adapter).set(a, { config: { n: 2 } });
      // A fresh namespace: the feed from the start holds only these changes.
      const page = await configs(adapter).changes('', 100);
      assert.deepEqual(
        page.entries.map((entry) => entry.tenantId),
        [b, c, a],
        `changes: expected tenants in change order ${JSON.stringify([b, c, a])}, actual ${JSON.stringify(page.entries.map((entry) => entry.tenantId))}`,
      );
      assert.deepEqual(page.entries.at(-1)?.config, { n: 2 }, 'changes: field "config" of the last entry expected its latest value');
    },
  },
  {
    name: 'configs: tenants includes suspended and deleted tenants',
    requires: needs('list'),
    async run({ adapter }) {
      const suspended = randomTenantId('suspended');
      const deleted = randomTenantId('deleted');
      await configs(adapter).set(suspended, { status: 'suspended' });
      await configs(adapter).set(deleted, { config: { a: 1 } });
      await configs(adapter).set(deleted, { status: 'deleted' });
      const listed = await collect(configs(adapter).tenants());
      for (const tenantId of [suspended, deleted])
        assert.ok(listed.includes(tenantId), `tenants(): expected ${tenantId} to be listed, actual ${JSON.stringify(listed)}`);
    },
  },
  {
    name: 'configs: tenant ids are compared exactly, case included',
    requires: needs(),
    async run({ adapter }) {
      const lower = randomTenantId('acme');
      const upper = lower.toUpperCase();
      await configs(adapter).set(lower, { config: { who: 'lower' } });
      assert.equal(await configs(adapter).get(upper), undefined, `get(${upper}): expected undefined, found the entry of ${lower}`);
      const created = await configs(adapter).set(upper, { config: { who: 'upper' } });
      assert.equal(created.version, 1, `set(${upper}): field "version" expected 1, actual ${created.version}`);
      assertSameFields(`get(${lower})`, (await configs(adapter).get(lower))?.config, { who: 'lower' });
    },
  },
  {
    name: 'configs: returned entries are copies the caller cannot change the source through',
    requires: needs(),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const stored = await configs(adapter).set(tenantId, { config: { nested: { a: 1 } } });
      (stored.config.nested as Record<string, number>).a = 99;
      const got = await configs(adapter).get(tenantId);
      if (got === undefined) assert.fail('get: expected an entry, actual undefined');
      got.status = 'suspended';
      (got.config.nested as Record<string, number>).a = 42;
      assertSameFields('get after changing returned copies', await configs(adapter).get(tenantId), {
        ...got,
        status: 'active',
        config: { nested: { a: 1 } },
      });
    },
  },
  {
    name: 'configs: a closed source refuses further calls with CLOSED',
    requires: needs(),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      await configs(adapter).set(tenantId, { config: {} });
      await configs(adapter).close();
      await rejectsWithCode(() => configs(adapter).get(tenantId), 'CLOSED', 'get after close');
      await rejectsWithCode(() => configs(adapter).set(tenantId, { config: { a: 1 } }), 'CLOSED', 'set after close');
    },
  },
];
