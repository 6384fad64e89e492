import assert from 'node:assert/strict';
import type { TokenChange, TokenStore } from '../contracts/token-store.js';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { assertSameFields, collect, eventually, rejectsWithCode } from './assertions.js';
import { randomTenantId, randomTokenHash, sampleTokenRecord } from './fixtures.js';

function needs(...flags: Array<'list' | 'watch'>) {
  return (adapter: AdapterUnderTest): string | undefined => {
    const store = adapter.tokens;
    if (store === undefined) return 'no token store';
    if (store.get === undefined || !store.capabilities.write) return 'the token store is not a writable, hash-keyed store';
    for (const flag of flags) if (!store.capabilities[flag]) return `the token store lacks the ${flag} capability`;
    return undefined;
  };
}

function tokens(adapter: AdapterUnderTest): Required<TokenStore> {
  return adapter.tokens as Required<TokenStore>;
}

/** Rules of {@link TokenStore} that hand-written adapters most often get wrong. */
export const tokenStoreEdgeCases: ConformanceCase[] = [
  {
    name: 'tokens: tenant ids are compared exactly, case and length included',
    requires: needs('list'),
    async run({ adapter }) {
      const lower = randomTenantId('acme');
      const upper = lower.toUpperCase();
      const a = sampleTokenRecord(lower);
      const b = sampleTokenRecord(upper);
      // An id that starts with another must not match it either.
      const longer = sampleTokenRecord(`${lower}0`);
      for (const record of [a, b, longer]) await tokens(adapter).create(record);
      assert.deepEqual(
        (await tokens(adapter).listByTenant(lower)).map((record) => record.tenantId),
        [lower],
        `listByTenant(${lower}) returned records of another tenant`,
      );
      assertSameFields('get', await tokens(adapter).get(b.tokenHash), b);
      const listed = await collect(tokens(adapter).tenants());
      assert.ok(
        listed.includes(lower) && listed.includes(upper),
        `tenants() expected both ${lower} and ${upper}, actual ${JSON.stringify(listed)}`,
      );
    },
  },
  {
    name: 'tokens: tenants includes tenants whose tokens are all revoked or expired',
    requires: needs('list'),
    async run({ adapter }) {
      const revoked = sampleTokenRecord(randomTenantId('revoked'));
      const expired = sampleTokenRecord(randomTenantId('expired'), { status: 'expired', expiresAt: Date.now() - 1_000 });
      await tokens(adapter).create(revoked);
      await tokens(adapter).create(expired);
      await tokens(adapter).revoke(revoked.tokenHash);
      const listed = await collect(tokens(adapter).tenants());
      for (const tenantId of [revoked.tenantId, expired.tenantId])
        assert.ok(listed.includes(tenantId), `tenants(): expected ${tenantId} to be listed, actual ${JSON.stringify(listed)}`);
    },
  },
  {
    name: 'tokens: of two concurrent creates of one hash exactly one wins, the other gets CONFLICT',
    requires: needs(),
    async run({ adapter, reopen }) {
      const other = await reopen();
      for (let round = 0; round < 10; round++) {
        const tokenHash = randomTokenHash();
        const first = sampleTokenRecord(randomTenantId('first'), { tokenHash });
        const second = sampleTokenRecord(randomTenantId('second'), { tokenHash });
        const outcomes = await Promise.allSettled([tokens(adapter).create(first), (other.tokens as Required<TokenStore>).create(second)]);
        const won = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
        assert.equal(won, 1, `create: round ${round}: expected exactly 1 of 2 concurrent creates to succeed, actual ${won}`);
        const lost = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
        assert.equal(
          (lost.reason as { code?: string }).code,
          'CONFLICT',
          `create: the losing create expected CONFLICT, actual ${String(lost.reason)}`,
        );
        const winner = outcomes[0]!.status === 'fulfilled' ? first : second;
        assertSameFields('get after concurrent creates', await tokens(adapter).get(tokenHash), winner);
      }
    },
  },
  {
    name: 'tokens: listByTenant returns records oldest first',
    requires: needs('list'),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const now = Date.now();
      const records = [3, 1, 4, 2].map((offset) => sampleTokenRecord(tenantId, { createdAt: now + offset * 1_000 }));
      for (const record of records) await tokens(adapter).create(record);
      const listed = (await tokens(adapter).listByTenant(tenantId)).map((record) => record.createdAt);
      assert.deepEqual(
        listed,
        [1, 2, 3, 4].map((offset) => now + offset * 1_000),
        'listByTenant: field "createdAt" expected ascending order',
      );
    },
  },
  {
    name: 'tokens: returned records are copies the caller cannot change the store through',
    requires: needs(),
    async run({ adapter }) {
      const record = sampleTokenRecord(randomTenantId(), { label: 'original' });
      await tokens(adapter).create(record);
      const got = await tokens(adapter).get(record.tokenHash);
      if (got === undefined) assert.fail('get: expected the created record, actual undefined');
      got.status = 'revoked';
      got.label = 'changed';
      record.label = 'changed too';
      assertSameFields('get after changing a returned copy', await tokens(adapter).get(record.tokenHash), { ...record, label: 'original' });
    },
  },
  {
    name: 'tokens: watch reports a rotation as created (successor) and rotated (old token)',
    requires: needs('watch'),
    async run({ adapter, reopen }) {
      const other = await reopen();
      const seen: TokenChange[] = [];
      const stop = tokens(adapter).watch((change) => seen.push(change));
      try {
        const old = sampleTokenRecord(randomTenantId());
        const successor = sampleTokenRecord(old.tenantId);
        await other.tokens!.create!(old);
        await other.tokens!.rotate!(old.tokenHash, successor, Date.now() + 60_000);
        const wanted = [
          { type: 'created', tokenHash: successor.tokenHash },
          { type: 'rotated', tokenHash: old.tokenHash },
        ];
        await eventually(
          () => wanted.every((want) => seen.some((change) => change.type === want.type && change.tokenHash === want.tokenHash)),
          5_000,
          `watch: expected ${JSON.stringify(wanted)}, actual ${JSON.stringify(seen.map(({ type, tokenHash }) => ({ type, tokenHash })))}`,
        );
        for (const change of seen)
          assert.equal(change.tenantId, old.tenantId, `watch: field "tenantId" expected ${old.tenantId}, actual ${change.tenantId}`);
      } finally {
        stop();
      }
    },
  },
  {
    name: 'tokens: a closed store refuses further calls with CLOSED',
    requires: needs(),
    async run({ adapter }) {
      const record = sampleTokenRecord(randomTenantId());
      await tokens(adapter).create(record);
      await tokens(adapter).close();
      await rejectsWithCode(() => tokens(adapter).get(record.tokenHash), 'CLOSED', 'get after close');
      await rejectsWithCode(() => tokens(adapter).create(sampleTokenRecord(record.tenantId)), 'CLOSED', 'create after close');
      await rejectsWithCode(() => tokens(adapter).revoke(record.tokenHash), 'CLOSED', 'revoke after close');
    },
  },
];
