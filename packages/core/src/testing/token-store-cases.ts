import assert from 'node:assert/strict';
import type { TokenChange, TokenStore } from '../contracts/token-store.js';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { eventually, rejectsWithCode } from './assertions.js';
import { randomTenantId, randomTokenHash, sampleTokenRecord } from './fixtures.js';

function needs(...what: Array<'get' | 'write' | 'list' | 'watch'>) {
  return (adapter: AdapterUnderTest): string | undefined => {
    const store = adapter.tokens;
    if (store === undefined) return 'no token store';
    if (what.includes('get') && store.get === undefined) return 'the token store has no get (a remote verifier)';
    for (const flag of ['write', 'list', 'watch'] as const) {
      if (what.includes(flag) && !store.capabilities[flag]) return `the token store lacks the ${flag} capability`;
    }
    return undefined;
  };
}

function tokens(adapter: AdapterUnderTest): Required<TokenStore> {
  return adapter.tokens as Required<TokenStore>;
}

/** Cases every writable, hash-keyed {@link TokenStore} must pass. */
export const tokenStoreCases: ConformanceCase[] = [
  {
    name: 'tokens: a created record is returned by get, field for field',
    requires: needs('get', 'write'),
    async run({ adapter }) {
      const record = sampleTokenRecord(randomTenantId(), { label: 'laptop', expiresAt: Date.now() + 60_000 });
      await tokens(adapter).create(record);
      assert.deepEqual(await tokens(adapter).get(record.tokenHash), record);
    },
  },
  {
    name: 'tokens: get of an unknown hash is undefined',
    requires: needs('get'),
    async run({ adapter }) {
      assert.equal(await tokens(adapter).get(randomTokenHash()), undefined);
    },
  },
  {
    name: 'tokens: malformed hashes are refused with BAD_REQUEST',
    requires: needs('get', 'write'),
    async run({ adapter }) {
      for (const bad of ['', '../../etc/passwd', 'A'.repeat(64), `${randomTokenHash()}\0`, 'gt_notahash', '*']) {
        await rejectsWithCode(() => tokens(adapter).get(bad), 'BAD_REQUEST', `get(${JSON.stringify(bad)})`);
        await rejectsWithCode(() => tokens(adapter).revoke(bad), 'BAD_REQUEST', `revoke(${JSON.stringify(bad)})`);
      }
    },
  },
  {
    name: 'tokens: invalid records are refused and nothing is stored',
    requires: needs('get', 'write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const invalid = [
        sampleTokenRecord('../other'),
        sampleTokenRecord(tenantId, { tokenHash: 'short' }),
        sampleTokenRecord(tenantId, { status: 'weird' as never }),
        sampleTokenRecord(tenantId, { createdAt: -1 }),
      ];
      for (const record of invalid) {
        await rejectsWithCode(() => tokens(adapter).create(record), 'BAD_REQUEST', 'creating an invalid record');
        if (/^[0-9a-f]{64}$/.test(record.tokenHash)) assert.equal(await tokens(adapter).get(record.tokenHash), undefined);
      }
    },
  },
  {
    name: 'tokens: creating an existing hash fails with CONFLICT and keeps the original',
    requires: needs('get', 'write'),
    async run({ adapter }) {
      const original = sampleTokenRecord(randomTenantId());
      await tokens(adapter).create(original);
      await rejectsWithCode(() => tokens(adapter).create({ ...original, tenantId: randomTenantId() }), 'CONFLICT');
      assert.deepEqual(await tokens(adapter).get(original.tokenHash), original);
    },
  },
  {
    name: 'tokens: revoke marks the record revoked and reports unknown hashes as undefined',
    requires: needs('get', 'write'),
    async run({ adapter }) {
      const record = sampleTokenRecord(randomTenantId());
      await tokens(adapter).create(record);
      const revoked = await tokens(adapter).revoke(record.tokenHash);
      assert.equal(revoked?.status, 'revoked');
      assert.equal((await tokens(adapter).get(record.tokenHash))?.status, 'revoked');
      assert.equal(await tokens(adapter).revoke(randomTokenHash()), undefined);
    },
  },
  {
    name: 'tokens: rotate keeps the old token only for the grace period and stores the successor',
    requires: needs('get', 'write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const old = sampleTokenRecord(tenantId);
      await tokens(adapter).create(old);
      const successor = sampleTokenRecord(tenantId);
      const graceUntil = Date.now() + 5_000;
      const updated = await tokens(adapter).rotate(old.tokenHash, successor, graceUntil);
      assert.equal(updated.expiresAt, graceUntil);
      assert.equal(updated.rotatedTo, successor.tokenHash);
      assert.equal(updated.status, 'active');
      assert.deepEqual(await tokens(adapter).get(successor.tokenHash), successor);
      assert.equal((await tokens(adapter).get(old.tokenHash))?.expiresAt, graceUntil);
    },
  },
  {
    name: 'tokens: rotate refuses unknown, revoked and cross-tenant tokens without storing the successor',
    requires: needs('get', 'write'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const successor = sampleTokenRecord(tenantId);
      await rejectsWithCode(() => tokens(adapter).rotate(randomTokenHash(), successor, Date.now()), 'NOT_FOUND');
      const revoked = sampleTokenRecord(tenantId);
      await tokens(adapter).create(revoked);
      await tokens(adapter).revoke(revoked.tokenHash);
      await rejectsWithCode(() => tokens(adapter).rotate(revoked.tokenHash, successor, Date.now()), 'TOKEN_REVOKED');
      const active = sampleTokenRecord(tenantId);
      await tokens(adapter).create(active);
      await rejectsWithCode(() => tokens(adapter).rotate(active.tokenHash, sampleTokenRecord(randomTenantId()), Date.now()), 'BAD_REQUEST');
      assert.equal(await tokens(adapter).get(successor.tokenHash), undefined);
    },
  },
  {
    name: 'tokens: listByTenant returns exactly that tenant’s records (isolation)',
    requires: needs('write', 'list'),
    async run({ adapter }) {
      const a = randomTenantId('a');
      const b = randomTenantId('b');
      const mine = [sampleTokenRecord(a, { createdAt: 1 }), sampleTokenRecord(a, { createdAt: 2 })];
      for (const record of [...mine, sampleTokenRecord(b)]) await tokens(adapter).create(record);
      const listed = await tokens(adapter).listByTenant(a);
      assert.deepEqual(listed.map((r) => r.tokenHash).sort(), mine.map((r) => r.tokenHash).sort());
      assert.ok(listed.every((record) => record.tenantId === a));
      assert.deepEqual(await tokens(adapter).listByTenant(randomTenantId('none')), []);
      await rejectsWithCode(() => tokens(adapter).listByTenant('../b'), 'TENANT_ID_INVALID');
    },
  },
  {
    name: 'tokens: tenants names every tenant given a token, each once',
    requires: needs('write', 'list'),
    async run({ adapter }) {
      const ids = [randomTenantId('t'), randomTenantId('t'), randomTenantId('t')];
      for (const id of ids) {
        await tokens(adapter).create(sampleTokenRecord(id));
        await tokens(adapter).create(sampleTokenRecord(id));
      }
      const listed: string[] = [];
      for await (const id of tokens(adapter).tenants()) listed.push(id);
      for (const id of ids) assert.equal(listed.filter((seen) => seen === id).length, 1, `${id} is listed once`);
      assert.ok(!listed.includes(randomTenantId('none')));
    },
  },
  {
    name: 'tokens: concurrent creates and revokes lose no update',
    requires: needs('get', 'write', 'list'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const records = Array.from({ length: 60 }, () => sampleTokenRecord(tenantId));
      await Promise.all(records.map((record) => tokens(adapter).create(record)));
      await Promise.all(records.filter((_, i) => i % 2 === 0).map((record) => tokens(adapter).revoke(record.tokenHash)));
      const listed = await tokens(adapter).listByTenant(tenantId);
      assert.equal(listed.length, records.length);
      for (const [i, record] of records.entries()) {
        assert.equal((await tokens(adapter).get(record.tokenHash))?.status, i % 2 === 0 ? 'revoked' : 'active');
      }
    },
  },
  {
    name: 'tokens: records survive closing and reopening the store',
    requires: needs('get', 'write'),
    async run({ adapter, reopen }) {
      const record = sampleTokenRecord(randomTenantId());
      await tokens(adapter).create(record);
      await adapter.tokens!.close?.();
      const again = await reopen();
      assert.deepEqual(await again.tokens!.get!(record.tokenHash), record);
    },
  },
  {
    name: 'tokens: watch reports creations and revocations from another store instance',
    requires: needs('write', 'watch'),
    async run({ adapter, reopen }) {
      const seen: TokenChange[] = [];
      const unwatch = tokens(adapter).watch((change) => seen.push(change));
      try {
        const other = await reopen();
        const record = sampleTokenRecord(randomTenantId());
        await other.tokens!.create!(record);
        await other.tokens!.revoke!(record.tokenHash);
        await eventually(
          () => seen.some((change) => change.type === 'revoked' && change.tokenHash === record.tokenHash),
          5_000,
          'the revocation to be reported',
        );
        assert.ok(seen.every((change) => /^[0-9a-f]{64}$/.test(change.tokenHash)));
      } finally {
        unwatch();
      }
    },
  },
];
