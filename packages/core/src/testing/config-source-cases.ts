import assert from 'node:assert/strict';
import type { ConfigSource, TenantConfigEntry } from '../contracts/config-source.js';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { eventually, rejectsWithCode } from './assertions.js';
import { randomTenantId } from './fixtures.js';

function needs(...what: Array<'write' | 'changes' | 'watch' | 'list'>) {
  return (adapter: AdapterUnderTest): string | undefined => {
    const source = adapter.configs;
    if (source === undefined) return 'no config source';
    for (const flag of what) if (!source.capabilities[flag]) return `the config source lacks the ${flag} capability`;
    return undefined;
  };
}

function configs(adapter: AdapterUnderTest): Required<ConfigSource> {
  return adapter.configs as Required<ConfigSource>;
}

function entry(
  tenantId: string,
  version: number,
  config: TenantConfigEntry['config'] = {},
  status: TenantConfigEntry['status'] = 'active',
): TenantConfigEntry {
  return { tenantId, version, config, status, updatedAt: 1_700_000_000_000 + version };
}

async function drain(
  source: Required<ConfigSource>,
  cursor: string | undefined,
  limit: number,
): Promise<{ entries: TenantConfigEntry[]; cursor: string; pages: number }> {
  const entries: TenantConfigEntry[] = [];
  let pages = 0;
  let next = cursor;
  for (;;) {
    const page = await source.changes(next, limit);
    pages++;
    assert.ok(page.entries.length <= limit, `a page holds at most ${limit} entries`);
    entries.push(...page.entries);
    if (!page.hasMore) return { entries, cursor: page.cursor, pages };
    assert.notEqual(page.cursor, next, 'the cursor must advance while hasMore is true');
    next = page.cursor;
    assert.ok(pages < 10_000, 'the change feed never ends');
  }
}

/** Cases every {@link ConfigSource} must pass. */
export const configSourceCases: ConformanceCase[] = [
  {
    name: 'configs: get of an unknown tenant is undefined; invalid ids are refused',
    requires: needs(),
    async run({ adapter }) {
      assert.equal(await configs(adapter).get(randomTenantId()), undefined);
      for (const bad of ['../x', '', 'a/b', 'x\0', '.hidden', 'é']) {
        await rejectsWithCode(() => configs(adapter).get(bad), 'TENANT_ID_INVALID', `get(${JSON.stringify(bad)})`);
      }
    },
  },
  {
    name: 'configs: set creates version 1, bumps the version on every change and keeps untouched fields',
    requires: needs('write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const first = await configs(adapter).set(tenantId, { config: { model: 'a', nested: { x: 1 } } });
      assert.equal(first.version, 1);
      assert.equal(first.status, 'active');
      assert.deepEqual(first.config, { model: 'a', nested: { x: 1 } });
      const second = await configs(adapter).set(tenantId, { status: 'suspended' });
      assert.equal(second.version, 2);
      assert.deepEqual(second.config, first.config, 'a status change keeps the config');
      const third = await configs(adapter).set(tenantId, { config: { model: 'b' } });
      assert.equal(third.status, 'suspended', 'a config change keeps the status');
      assert.deepEqual(await configs(adapter).get(tenantId), third);
    },
  },
  {
    name: 'configs: set with a stale ifVersion fails with CONFLICT and changes nothing',
    requires: needs('write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      await rejectsWithCode(() => configs(adapter).set(tenantId, { config: {} }, { ifVersion: 3 }), 'CONFLICT');
      assert.equal(await configs(adapter).get(tenantId), undefined);
      const created = await configs(adapter).set(tenantId, { config: { v: 1 } }, { ifVersion: 0 });
      await rejectsWithCode(() => configs(adapter).set(tenantId, { config: { v: 2 } }, { ifVersion: 0 }), 'CONFLICT');
      assert.deepEqual(await configs(adapter).get(tenantId), created);
    },
  },
  {
    name: 'configs: invalid configs are refused with CONFIG_INVALID and change nothing',
    requires: needs('write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const kept = await configs(adapter).set(tenantId, { config: { ok: true } });
      const deep: Record<string, unknown> = {};
      let cursor = deep;
      for (let i = 0; i < 64; i++) {
        const next: Record<string, unknown> = {};
        cursor.next = next;
        cursor = next;
      }
      const invalid: unknown[] = [
        [],
        'text',
        null,
        { n: Number.NaN },
        { big: 'x'.repeat(300 * 1024) },
        deep,
        JSON.parse('{"__proto__":{"polluted":1}}'),
      ];
      for (const config of invalid) {
        await rejectsWithCode(() => configs(adapter).set(tenantId, { config: config as never }), 'CONFIG_INVALID');
      }
      assert.deepEqual(await configs(adapter).get(tenantId), kept);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    },
  },
  {
    name: 'configs: put stores only newer versions (last-known-good copies)',
    requires: needs('write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      assert.equal(await configs(adapter).put(entry(tenantId, 5, { v: 5 })), true);
      assert.equal(await configs(adapter).put(entry(tenantId, 5, { v: 'same' })), false);
      assert.equal(await configs(adapter).put(entry(tenantId, 3, { v: 3 })), false);
      assert.deepEqual((await configs(adapter).get(tenantId))?.config, { v: 5 });
      assert.equal(await configs(adapter).put(entry(tenantId, 9, { v: 9 }, 'suspended')), true);
      const stored = await configs(adapter).get(tenantId);
      assert.equal(stored?.version, 9);
      assert.equal(stored?.status, 'suspended');
      await rejectsWithCode(() => configs(adapter).put({ ...entry(tenantId, 10), version: 0 }), 'CONFIG_INVALID');
      const next = await configs(adapter).set(tenantId, { config: { local: true } });
      assert.ok(next.version > 9, 'a local change after a put still increases the version');
    },
  },
  {
    name: 'configs: tenants are isolated from each other',
    requires: needs('write'),
    async run({ adapter }) {
      const a = randomTenantId('a');
      const b = randomTenantId('b');
      await configs(adapter).set(a, { config: { secret: 'a-only' } });
      await configs(adapter).set(b, { config: { secret: 'b-only' } });
      await configs(adapter).set(a, { status: 'suspended' });
      assert.deepEqual((await configs(adapter).get(b))?.config, { secret: 'b-only' });
      assert.equal((await configs(adapter).get(b))?.status, 'active');
      assert.equal((await configs(adapter).get(b))?.version, 1);
    },
  },
  {
    name: 'configs: concurrent sets on one tenant lose no update',
    requires: needs('write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => configs(adapter).set(tenantId, { config: { i } })));
      const versions = results.map((result) => result.version).sort((x, y) => x - y);
      assert.deepEqual(
        versions,
        Array.from({ length: 40 }, (_, i) => i + 1),
        'every set got its own version',
      );
      const final = await configs(adapter).get(tenantId);
      assert.equal(final?.version, 40);
      const winner = results.find((result) => result.version === 40);
      assert.deepEqual(final?.config, winner?.config);
    },
  },
  {
    name: 'configs: the change feed pages to the end, includes suspensions and deletions, and resumes from its cursor',
    requires: needs('write', 'changes'),
    async run({ adapter }) {
      const start = await drain(configs(adapter), undefined, 1_000);
      const ids = Array.from({ length: 23 }, (_, i) => randomTenantId(`f${i}`));
      for (const id of ids) await configs(adapter).set(id, { config: { id } });
      await configs(adapter).set(ids[0]!, { status: 'suspended' });
      await configs(adapter).set(ids[1]!, { status: 'deleted' });
      const all = await drain(configs(adapter), start.cursor, 5);
      assert.ok(all.pages >= 5, 'small pages are followed to the end');
      const latest = new Map(all.entries.map((item) => [item.tenantId, item]));
      assert.deepEqual([...latest.keys()].sort(), [...ids].sort());
      assert.equal(latest.get(ids[0]!)?.status, 'suspended');
      assert.equal(latest.get(ids[1]!)?.status, 'deleted');
      const none = await configs(adapter).changes(all.cursor, 5);
      assert.deepEqual(none.entries, []);
      assert.equal(none.hasMore, false);
      await configs(adapter).set(ids[2]!, { config: { changed: true } });
      const later = await drain(configs(adapter), all.cursor, 5);
      assert.deepEqual(
        later.entries.map((item) => item.tenantId),
        [ids[2]],
      );
      await rejectsWithCode(() => configs(adapter).changes('not a cursor', 5), 'BAD_REQUEST');
    },
  },
  {
    name: 'configs: tenants lists every tenant with an entry',
    requires: needs('write', 'list'),
    async run({ adapter }) {
      const ids = [randomTenantId(), randomTenantId(), randomTenantId()];
      for (const id of ids) await configs(adapter).set(id, { config: {} });
      const listed: string[] = [];
      for await (const id of configs(adapter).tenants()) listed.push(id);
      for (const id of ids) assert.ok(listed.includes(id), `${id} is listed`);
    },
  },
  {
    name: 'configs: entries survive closing and reopening the source',
    requires: needs('write'),
    async run({ adapter, reopen }) {
      const tenantId = randomTenantId();
      const stored = await configs(adapter).set(tenantId, { config: { kept: [1, 2, 3] } });
      await adapter.configs!.close?.();
      const again = await reopen();
      assert.deepEqual(await again.configs!.get(tenantId), stored);
    },
  },
  {
    name: 'configs: watch reports changes made through another source instance',
    requires: needs('write', 'watch'),
    async run({ adapter, reopen }) {
      const seen: TenantConfigEntry[] = [];
      const unwatch = configs(adapter).watch((change) => seen.push(change));
      try {
        const other = await reopen();
        const tenantId = randomTenantId();
        await other.configs!.set!(tenantId, { config: { hello: 'world' } });
        await other.configs!.set!(tenantId, { status: 'suspended' });
        await eventually(
          () => seen.some((change) => change.tenantId === tenantId && change.status === 'suspended' && change.version === 2),
          5_000,
          'the suspension to be reported',
        );
      } finally {
        unwatch();
      }
    },
  },
];
