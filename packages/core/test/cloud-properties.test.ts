import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type CloudClient, ConfigSyncService, createMemoryCursorStore, createV1Dialect } from '@openclaw-mt/core/cloud';
import { createMemoryConfigSource } from '@openclaw-mt/core/testing';
import { MultiTenantError } from '@openclaw-mt/core';
import { tenantConfigProblem } from '@openclaw-mt/core/contracts';
import { captureLogger } from './cloud-support/capture-logger.js';

/**
 * A feed over a fixed list of raw entries, paginated by the server's own page sizes, with index cursors.
 * With `loopAt`, that page hands back a cursor already requested (chosen by `loopPick`) while claiming more.
 */
function fakeClient(entries: unknown[], pageSizes: number[], options: { loopAt?: number; loopPick?: number } = {}): CloudClient {
  const requested: string[] = [];
  let page = 0;
  return {
    baseUrl: 'http://fake.invalid',
    dialect: createV1Dialect(),
    async verify(): Promise<never> {
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'not used');
    },
    async configs({ cursor, limit }) {
      const start = cursor === undefined ? 0 : Number(cursor);
      if (cursor !== undefined) requested.push(cursor);
      const size = Math.min(limit, pageSizes[page % pageSizes.length]!);
      const end = Math.min(entries.length, start + size);
      const hasMore = end < entries.length;
      const looping = options.loopAt === page++ && hasMore && requested.length > 0;
      const nextCursor = looping ? requested[(options.loopPick ?? 0) % requested.length]! : String(end);
      return { kind: 'page', users: entries.slice(start, end), tokens: [], credentials: [], nextCursor, hasMore, bytes: 0 };
    },
  };
}

const tenant = fc.constantFrom('alice', 'bob', 'carol', 'dave');
const validEntry = fc.record({
  userId: tenant,
  status: fc.constantFrom('active', 'suspended', 'deleted'),
  // Valid means valid by core's rules at every depth (no `__proto__`, `constructor` or `prototype` keys).
  config: fc
    .dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
    .filter((config) => tenantConfigProblem(config) === undefined),
  version: fc.integer({ min: 1, max: 20 }),
  updatedAt: fc.nat(),
});
const invalidEntry = fc.oneof(
  fc.anything(),
  validEntry.map((entry) => ({ ...entry, version: -entry.version })),
  validEntry.map((entry) => ({ ...entry, userId: `../${entry.userId}` })),
  validEntry.map((entry) => ({ ...entry, status: 'frozen' })),
  validEntry.map(({ userId, ...rest }) => ({ user_id: userId, ...rest })),
  validEntry.map((entry) => ({ ...entry, config: [entry.config] })),
);
const feedEntry = fc.oneof(
  { weight: 3, arbitrary: validEntry.map((entry) => ({ valid: true as const, entry })) },
  { weight: 1, arbitrary: invalidEntry.map((entry) => ({ valid: false as const, entry })) },
);

describe('config sync properties', () => {
  test('any feed, any pagination: the stored copy holds the newest valid version of each tenant; every bad entry is counted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(feedEntry, { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 10 }),
        async (feed, pageSizes, limit) => {
          const lastKnownGood = createMemoryConfigSource();
          const client = fakeClient(
            feed.map((item) => item.entry),
            pageSizes,
          );
          const sync = new ConfigSyncService({ client, lastKnownGood, pageLimit: limit, logger: captureLogger().logger });
          const result = await sync.syncNow();

          const newest = new Map<string, { version: number; status: string }>();
          let applied = 0;
          for (const item of feed) {
            if (!item.valid) continue;
            const current = newest.get(item.entry.userId);
            if (current === undefined || item.entry.version > current.version) {
              newest.set(item.entry.userId, { version: item.entry.version, status: item.entry.status });
              applied++;
            }
          }
          expect(result.ok).toBe(true);
          expect(result.applied).toBe(applied);
          expect(result.rejected).toBe(feed.filter((item) => !item.valid).length);
          for (const name of ['alice', 'bob', 'carol', 'dave']) {
            const stored = await lastKnownGood.get(name);
            expect(stored && { version: stored.version, status: stored.status }).toEqual(newest.get(name));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a server that hands back an earlier cursor while claiming more is caught, whatever the page', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.nat(),
        async (count, size, loopSeed, loopPick) => {
          const entries = Array.from({ length: count }, (_, i) => ({
            userId: `u${i}`,
            status: 'active',
            config: {},
            version: 1,
            updatedAt: 0,
          }));
          const pages = Math.ceil(count / size);
          fc.pre(pages >= 3);
          const loopAt = 1 + (loopSeed % (pages - 2));
          const cursorStore = createMemoryCursorStore();
          const lastKnownGood = createMemoryConfigSource();
          const client = fakeClient(entries, [size], { loopAt, loopPick });
          const sync = new ConfigSyncService({ client, lastKnownGood, cursorStore, pageLimit: size, logger: captureLogger().logger });
          const result = await sync.syncNow();
          expect(result.ok).toBe(false);
          expect(result.error?.details.reason).toBe('cursor-not-advancing');
          expect(result.pages).toBe(loopAt + 1);
          // Pages before the broken one were applied and their cursor kept; the broken page was not applied.
          expect(cursorStore.state?.cursor).toBe(String(loopAt * size));
          expect(result.applied).toBe(loopAt * size);
          expect(await lastKnownGood.get(`u${loopAt * size}`)).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});
