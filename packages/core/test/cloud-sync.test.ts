import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  ConfigSyncService,
  createCloudBackend,
  createCloudClient,
  createFileCursorStore,
  createMemoryCursorStore,
  type ConfigSyncOptions,
} from '@openclaw-mt/core/cloud';
import { TenantManager, isMultiTenantError, type MultiTenantError } from '@openclaw-mt/core';
import { createMemoryConfigSource, createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import { captureLogger } from './cloud-support/capture-logger.js';
import { ManualClock } from './cloud-support/manual-clock.js';
import { type StubBackend, startStubBackend } from './cloud-support/stub-backend.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stubBackend(): Promise<StubBackend> {
  const stub = await startStubBackend();
  cleanups.push(() => stub.close());
  return stub;
}

function syncFor(stub: StubBackend, options: Partial<ConfigSyncOptions> & { maxResponseBytes?: number } = {}) {
  const { maxResponseBytes, ...rest } = options;
  const capture = captureLogger();
  const lastKnownGood = createMemoryConfigSource();
  const cursorStore = createMemoryCursorStore();
  const client = createCloudClient({
    url: stub.url,
    serviceToken: stub.serviceToken,
    timeoutMs: 2_000,
    ...(maxResponseBytes ? { maxResponseBytes } : {}),
  });
  const sync = new ConfigSyncService({
    client,
    lastKnownGood,
    cursorStore,
    clock: new ManualClock(),
    random: () => 0.5,
    logger: capture.logger,
    ...rest,
  });
  const events = { failed: 0, recovered: 0, applied: [] as string[], rejected: [] as Array<string | undefined> };
  sync.hooks.hook('sync:failed', () => void events.failed++);
  sync.hooks.hook('sync:recovered', () => void events.recovered++);
  sync.hooks.hook('sync:applied', ({ entry }) => void events.applied.push(`${entry.tenantId}@${entry.version}`));
  sync.hooks.hook('sync:rejected', ({ tenantId }) => void events.rejected.push(tenantId));
  return { sync, lastKnownGood, cursorStore, capture, events };
}

const configsRequests = (stub: StubBackend) => stub.requests.filter((request) => request.url.startsWith('/openclaw/gateway/configs'));

describe('following the feed', () => {
  test('10,000 users across 20 pages all sync; an unchanged feed then answers 304', async () => {
    const stub = await stubBackend();
    stub.addUsers(10_000);
    const { sync, lastKnownGood } = syncFor(stub, { pageLimit: 500 });
    const started = performance.now();
    const result = await sync.syncNow();
    const elapsed = performance.now() - started;
    expect(result).toEqual({ ok: true, applied: 10_000, pages: 20, rejected: 0, tokenEvents: 0, notModified: false });
    let stored = 0;
    for await (const _ of lastKnownGood.tenants()) stored++;
    expect(stored).toBe(10_000);
    expect((await lastKnownGood.get('user-9999'))?.config).toEqual({ n: 9999 });
    console.info(`[figure] synced 10,000 users in 20 pages in ${elapsed.toFixed(0)} ms`);

    // The first poll at the end of the feed learns its ETag; the next one is a 304.
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 0, pages: 1, notModified: false });
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 0, pages: 1, notModified: true });
    const last = configsRequests(stub).at(-1)!;
    expect(last.headers['if-none-match']).toBeDefined();

    stub.setUser('user-5', { config: { n: 'changed' } });
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 1, notModified: false });
    expect((await lastKnownGood.get('user-5'))?.config).toEqual({ n: 'changed' });
  });

  test('only newer versions are applied', async () => {
    const stub = await stubBackend();
    const { sync, lastKnownGood, events } = syncFor(stub);
    await lastKnownGood.put({ tenantId: 'alice', status: 'active', config: { local: true }, version: 5, updatedAt: 1 });
    for (let i = 0; i < 3; i++) stub.setUser('alice', { config: { remote: i } });
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 0 });
    expect((await lastKnownGood.get('alice'))?.config).toEqual({ local: true });
    for (let i = 0; i < 3; i++) stub.setUser('alice', { config: { remote: i } });
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 1 });
    expect(await lastKnownGood.get('alice')).toMatchObject({ version: 6, config: { remote: 2 } });
    expect(events.applied).toEqual(['alice@6']);
  });

  test("GET is not retried behind the sync's back: one request per failed run", async () => {
    const stub = await stubBackend();
    const { sync } = syncFor(stub);
    stub.fault = 'down';
    const result = await sync.syncNow();
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('BACKEND_UNAVAILABLE');
    expect(result.error?.retryAfterMs).toBe(5_000);
    expect(configsRequests(stub)).toHaveLength(1);
  });

  test('a rejected service token fails the run as BACKEND_UNAVAILABLE, never as an empty feed', async () => {
    const stub = await stubBackend();
    stub.setUser('alice');
    const client = createCloudClient({ url: stub.url, serviceToken: 'wrong-service-token-value' });
    const sync = new ConfigSyncService({ client, lastKnownGood: createMemoryConfigSource(), logger: captureLogger().logger });
    const result = await sync.syncNow();
    expect(result).toMatchObject({ ok: false, applied: 0 });
    expect(result.error?.code).toBe('BACKEND_UNAVAILABLE');
    expect(result.error?.details.reason).toBe('service-token-rejected');
  });

  test('a cursor the backend no longer knows restarts the feed once, from the start', async () => {
    const stub = await stubBackend();
    stub.addUsers(3);
    const { sync, cursorStore, lastKnownGood } = syncFor(stub);
    await cursorStore.save({ cursor: Buffer.from('seq:999').toString('base64url') });
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 3 });
    expect(await lastKnownGood.get('user-2')).toBeDefined();
  });

  test('syncNow during a run queues one more run after it; concurrent callers share it', async () => {
    const stub = await stubBackend();
    stub.addUsers(2);
    const { sync } = syncFor(stub);
    const first = sync.syncNow();
    const second = sync.syncNow();
    const third = sync.syncNow();
    expect(second).toBe(third);
    expect((await first).applied).toBe(2);
    expect((await second).applied).toBe(0);
    expect(configsRequests(stub)).toHaveLength(2);
  });
});

describe('validation', () => {
  const broken: Array<[string, unknown]> = [
    ['wrong types', { users: 'everyone', nextCursor: 7, hasMore: 'yes' }],
    ['missing fields', { users: [] }],
    ['snake_case fields', { users: [], next_cursor: 'abc', has_more: false }],
    ['not an object', [1, 2, 3]],
  ];

  test.each(broken)('a page with %s is rejected: nothing stored, cursor kept, one alert', async (_name, body) => {
    const stub = await stubBackend();
    stub.setUser('alice', { config: { v: 1 } });
    const { sync, lastKnownGood, cursorStore, events } = syncFor(stub);
    expect((await sync.syncNow()).ok).toBe(true);
    const cursor = cursorStore.state?.cursor;
    stub.setUser('alice', { config: { v: 2 } });
    stub.intercept = ({ path }) => (path === '/openclaw/gateway/configs' ? { status: 200, body } : undefined);
    for (let i = 0; i < 3; i++) {
      const result = await sync.syncNow();
      expect(result.ok).toBe(false);
      expect(result.error?.code).toBe('CONFIG_INVALID');
      expect(result.applied).toBe(0);
    }
    expect(events.failed).toBe(1);
    expect(cursorStore.state?.cursor).toBe(cursor);
    expect((await lastKnownGood.get('alice'))?.config).toEqual({ v: 1 });

    stub.intercept = undefined;
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 1 });
    expect(events.recovered).toBe(1);
  });

  test('a body that is not JSON is rejected', async () => {
    const stub = await stubBackend();
    const { sync } = syncFor(stub);
    stub.intercept = () => ({ status: 200, body: '{"users": [', headers: { 'content-type': 'application/json' } });
    const result = await sync.syncNow();
    expect(result.error).toMatchObject({ code: 'CONFIG_INVALID', details: { reason: 'not-json' } });
  });

  test.each([false, true])('a huge body is refused by the size cap (chunked: %s) without touching stored configs', async (chunked) => {
    const stub = await stubBackend();
    const { sync, lastKnownGood } = syncFor(stub, { maxResponseBytes: 1024 * 1024 });
    await lastKnownGood.put({ tenantId: 'alice', status: 'active', config: { v: 1 }, version: 1, updatedAt: 1 });
    const users = Array.from({ length: 100 }, (_, i) => ({
      userId: `u${i}`,
      status: 'active',
      config: { pad: 'x'.repeat(50_000) },
      version: 9,
      updatedAt: 1,
    }));
    users.push({ userId: 'alice', status: 'active', config: { pad: 'evil' }, version: 99, updatedAt: 1 });
    stub.intercept = () => ({ status: 200, body: { users, nextCursor: 'c1', hasMore: false }, chunked });
    const result = await sync.syncNow();
    expect(result.ok).toBe(false);
    // The page is re-read in halves down to one user; a single entry over the cap cannot be skipped.
    expect(result.error).toMatchObject({ code: 'CONFIG_INVALID', details: { reason: 'page-too-large' } });
    expect(sync.status().alerts.map((alert) => alert.code)).toEqual(['SYNC_PAGE_TOO_LARGE']);
    const limits = stub.requests.map((request) => new URL(request.url, 'http://x').searchParams.get('limit'));
    expect(limits).toEqual(['500', '250', '125', '62', '31', '15', '7', '3', '1']);
    expect((await lastKnownGood.get('alice'))?.config).toEqual({ v: 1 });
    expect(await lastKnownGood.get('u1')).toBeUndefined();
  });

  test('bad entries are rejected one by one: the others apply, the old config stays, the cursor moves on', async () => {
    const stub = await stubBackend();
    const { sync, lastKnownGood, events, cursorStore, capture } = syncFor(stub);
    await lastKnownGood.put({ tenantId: 'bob', status: 'active', config: { keep: true }, version: 1, updatedAt: 1 });
    stub.intercept = () => ({
      status: 200,
      body: {
        users: [
          { userId: 'alice', status: 'active', config: { ok: true }, version: 1, updatedAt: 5 },
          { userId: 'bob', status: 'frozen', config: {}, version: 2, updatedAt: 5 },
          { userId: 'bob', status: 'active', config: 'not an object', version: 3, updatedAt: 5 },
          { userId: 'bob', status: 'active', config: { a: 1 }, version: '4', updatedAt: 5 },
          { user_id: 'carol', status: 'active', config: {}, version: 1, updatedAt: 5 },
          { userId: '../../etc', status: 'active', config: {}, version: 1, updatedAt: 5 },
          { userId: 'dave', status: 'active', config: { __proto__x: 1, nested: { constructor: 1 } }, version: 1, updatedAt: 5 },
          { userId: 'erin', status: 'suspended', config: {}, version: 1, updatedAt: 5 },
          null,
        ],
        nextCursor: 'after-bad-entries',
        hasMore: false,
      },
    });
    const result = await sync.syncNow();
    expect(result).toMatchObject({ ok: true, applied: 2, rejected: 7 });
    expect(events.applied).toEqual(['alice@1', 'erin@1']);
    expect(events.rejected).toEqual(['bob', 'bob', 'bob', undefined, undefined, 'dave', undefined]);
    expect((await lastKnownGood.get('bob'))?.config).toEqual({ keep: true });
    expect(await lastKnownGood.get('dave')).toBeUndefined();
    expect(cursorStore.state?.cursor).toBe('after-bad-entries');
    expect(capture.lines.filter((line) => line.startsWith('[warn]') && line.includes('Rejected a synced config entry'))).toHaveLength(7);
  });

  test('a cursor that does not advance while hasMore is true fails the run and applies nothing from that page', async () => {
    const stub = await stubBackend();
    const { sync, lastKnownGood, cursorStore } = syncFor(stub);
    stub.intercept = ({ query }) => ({
      status: 200,
      body: {
        users: [{ userId: 'alice', status: 'active', config: {}, version: 1, updatedAt: 1 }],
        nextCursor: query.get('cursor') ?? 'c0',
        hasMore: true,
      },
    });
    const result = await sync.syncNow();
    expect(result.ok).toBe(false);
    expect(result.error?.details.reason).toBe('cursor-not-advancing');
    expect(result.pages).toBe(2);
    // The first page was fine (c0 was new) and is kept; the repeated one was refused before applying.
    expect(cursorStore.state?.cursor).toBe('c0');
    expect((await lastKnownGood.get('alice'))?.version).toBe(1);
  });

  test('an endless feed of fresh cursors is cut off after maxPagesPerRun', async () => {
    const stub = await stubBackend();
    const { sync } = syncFor(stub, { maxPagesPerRun: 25 });
    let n = 0;
    stub.intercept = () => ({ status: 200, body: { users: [], nextCursor: `c${++n}`, hasMore: true } });
    const result = await sync.syncNow();
    expect(result).toMatchObject({ ok: false, pages: 25 });
    expect(result.error?.details.reason).toBe('endless-feed');
  });

  test('a 304 without If-None-Match is a contract violation, not "nothing changed"', async () => {
    const stub = await stubBackend();
    const { sync } = syncFor(stub);
    stub.intercept = () => ({ status: 304 });
    const result = await sync.syncNow();
    expect(result.ok).toBe(false);
    expect(result.error?.details.reason).toBe('unexpected-304');
  });
});

describe('scheduling', () => {
  test('runs every syncIntervalMs, backs off with capped full jitter after failures, stops on stop()', async () => {
    const stub = await stubBackend();
    const clock = new ManualClock();
    const draws = [0, 1, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    let i = 0;
    const { sync } = syncFor(stub, {
      clock,
      syncIntervalMs: 10_000,
      backoff: { initialMs: 1_000, maxMs: 8_000, minMs: 100 },
      random: () => draws[i++ % draws.length]!,
    });
    await sync.start();
    expect(sync.status().nextRunAt).toBe(clock.now() + 10_000);
    stub.fault = 'down';
    await clock.advance(10_000);
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const before = clock.now();
      const next = sync.status().nextRunAt!;
      delays.push(next - before);
      await clock.advance(next - before);
    }
    // attempt 1 draw 0 → floor; attempt 2 draw 1 → 2 s; attempt 3 draw 0.5 → halfway to 4 s; then capped at 8 s.
    expect(delays).toEqual([100, 2_000, 2_050, 8_000, 8_000, 8_000]);
    sync.stop();
    expect(clock.pending).toBe(0);
  });
});

describe('pushing changes to the manager', () => {
  test('config updates reach active tenants; suspension evicts and denies; deletion too', async () => {
    const stub = await stubBackend();
    stub.setUser('alice', { config: { model: 'one' } });
    stub.setUser('bob');
    const aliceToken = stub.issueToken('alice');
    const clock = new ManualClock();
    const cloud = createCloudBackend({
      url: stub.url,
      serviceToken: stub.serviceToken,
      lastKnownGood: createMemoryConfigSource(),
      clock,
      syncIntervalMs: 30_000,
      logger: captureLogger().logger,
    });
    const manager = new TenantManager({
      tokens: cloud.tokens,
      configs: cloud.configs,
      workspaces: createMemoryWorkspaceStore(),
      now: clock.now,
      idleTimeoutMs: 0,
    });
    cleanups.push(() => manager.close());
    const events: string[] = [];
    manager.hooks.hook('tenant:config-updated', ({ tenantId, version }) => void events.push(`updated ${tenantId}@${version}`));
    manager.hooks.hook('tenant:suspended', ({ tenantId, status }) => void events.push(`${status} ${tenantId}`));
    manager.hooks.hook('tenant:evicted', ({ tenantId, reason }) => void events.push(`evicted ${tenantId} (${reason})`));
    await cloud.attach(manager);

    const { tenantId } = await manager.authenticate(aliceToken);
    const lease = await manager.acquire(tenantId);
    expect(lease.config).toEqual({ model: 'one' });

    stub.setUser('alice', { config: { model: 'two' } });
    await clock.advance(30_000);
    expect(lease.config).toEqual({ model: 'two' });

    stub.setUser('alice', { status: 'suspended' });
    await clock.advance(30_000);
    expect(manager.isActive('alice')).toBe(false);
    const denied = await manager.authenticate(aliceToken).catch((error: MultiTenantError) => error);
    expect(isMultiTenantError(denied) && denied.code).toBe('TENANT_SUSPENDED');

    const bobLease = await manager.acquire('bob');
    bobLease.release();
    stub.setUser('bob', { status: 'deleted' });
    await clock.advance(30_000);
    expect(manager.isActive('bob')).toBe(false);
    lease.release();
    expect(events).toEqual(['updated alice@2', 'suspended alice', 'evicted alice (suspended)', 'deleted bob', 'evicted bob (suspended)']);
  });

  test('a verify answer carrying a newer config version pulls the change before the next interval', async () => {
    const stub = await stubBackend();
    stub.setUser('alice', { config: { model: 'one' } });
    const token = stub.issueToken('alice');
    const clock = new ManualClock();
    const lastKnownGood = createMemoryConfigSource();
    const cloud = createCloudBackend({
      url: stub.url,
      serviceToken: stub.serviceToken,
      lastKnownGood,
      clock,
      syncIntervalMs: 3_600_000,
      logger: captureLogger().logger,
    });
    const manager = new TenantManager({
      tokens: cloud.tokens,
      configs: cloud.configs,
      workspaces: createMemoryWorkspaceStore(),
      now: clock.now,
    });
    cleanups.push(() => manager.close());
    await cloud.attach(manager);
    stub.setUser('alice', { config: { model: 'two' } });
    const updated = new Promise<number>((resolve) => manager.hooks.hook('tenant:config-updated', ({ version }) => resolve(version)));
    const lease = await manager.acquire('alice');
    await manager.authenticate(token);
    expect(await updated).toBe(2);
    expect(lease.config).toEqual({ model: 'two' });
    lease.release();
  });

  test('the sync stops when the manager closes', async () => {
    const stub = await stubBackend();
    const clock = new ManualClock();
    const cloud = createCloudBackend({
      url: stub.url,
      serviceToken: stub.serviceToken,
      lastKnownGood: createMemoryConfigSource(),
      clock,
      logger: captureLogger().logger,
    });
    const manager = new TenantManager({ tokens: cloud.tokens, configs: cloud.configs, workspaces: createMemoryWorkspaceStore() });
    await cloud.attach(manager);
    expect(cloud.sync.status().started).toBe(true);
    await manager.close();
    expect(cloud.sync.status().started).toBe(false);
    expect(clock.pending).toBe(0);
  });
});

describe('file cursor store', () => {
  test('saves atomically with mode 0600, loads it back, and treats a corrupt file as "from the start"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-cursor-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'nested', 'cursor.json');
    const corrupt: MultiTenantError[] = [];
    const store = createFileCursorStore(path, { onCorrupt: (error) => void corrupt.push(error) });
    expect(await store.load()).toBeUndefined();
    await store.save({ cursor: 'abc', etag: { cursor: null, value: '"e1"' } });
    expect(await store.load()).toMatchObject({ cursor: 'abc', etag: { cursor: null, value: '"e1"' } });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8')).cursor).toBe('abc');
    await writeFile(path, '{"cursor": 42');
    expect(await store.load()).toBeUndefined();
    expect(corrupt[0]?.code).toBe('CONFIG_INVALID');
  });
});

describe('a sync that is never stuck', () => {
  test('a page over the size cap is re-read in halves (coded alert) and the rest of the feed still advances; the alert resolves', async () => {
    const stub = await stubBackend();
    for (let i = 0; i < 40; i++) stub.setUser(`u${i}`, { config: { pad: 'x'.repeat(20_000) } });
    const { sync, lastKnownGood, capture } = syncFor(stub, { maxResponseBytes: 256 * 1024, pageLimit: 32 });
    const alerts: string[] = [];
    sync.hooks.hook('sync:alert', ({ code }) => void alerts.push(code));
    sync.hooks.hook('sync:alert-resolved', ({ code }) => void alerts.push(`resolved ${code}`));
    const result = await sync.syncNow();
    expect(result).toMatchObject({ ok: true, applied: 40, rejected: 0 });
    expect((await lastKnownGood.get('u39'))?.config).toEqual({ pad: 'x'.repeat(20_000) });
    expect(alerts).toEqual(['SYNC_PAGE_TOO_LARGE']);
    expect(sync.status().alerts.map((alert) => alert.code)).toEqual(['SYNC_PAGE_TOO_LARGE']);
    expect(capture.lines.some((line) => line.includes('[SYNC_PAGE_TOO_LARGE]'))).toBe(true);
    // The next run has nothing oversized: the alert is resolved.
    expect((await sync.syncNow()).ok).toBe(true);
    expect(alerts).toEqual(['SYNC_PAGE_TOO_LARGE', 'resolved SYNC_PAGE_TOO_LARGE']);
  });

  test('a __proto__ key is refused with the entry, never dropped silently', async () => {
    const stub = await stubBackend();
    const { sync, lastKnownGood, events } = syncFor(stub);
    stub.intercept = () => ({
      status: 200,
      body: '{"users":[{"userId":"mallory","status":"active","config":{"__proto__":{"admin":true},"model":"m"},"version":1,"updatedAt":1}],"nextCursor":"c1","hasMore":false}',
    });
    expect(await sync.syncNow()).toMatchObject({ ok: true, applied: 0, rejected: 1 });
    expect(events.rejected).toEqual(['mallory']);
    expect(await lastKnownGood.get('mallory')).toBeUndefined();
  });

  test('a long catch-up logs its progress; token events are passed on, invalid ones rejected', async () => {
    const stub = await stubBackend();
    stub.addUsers(30);
    const clock = new ManualClock();
    // Every request takes four "seconds" of the test's clock.
    const slow = {
      ...clock,
      now: () => (clock.time += 4_000),
      setTimeout: clock.setTimeout.bind(clock),
      clearTimeout: clock.clearTimeout.bind(clock),
    };
    const { sync, capture } = syncFor(stub, { pageLimit: 5, clock: slow });
    const seen: string[] = [];
    sync.hooks.hook('sync:token-event', ({ event }) => void seen.push(`${event.type} ${event.userId}`));
    const token = stub.issueToken('user-1');
    stub.revokeToken(token);
    const result = await sync.syncNow();
    expect(result).toMatchObject({ ok: true, applied: 30, tokenEvents: 1 });
    expect(seen).toEqual(['revoked user-1']);
    expect(capture.lines.filter((line) => line.includes('config sync in progress')).length).toBeGreaterThan(0);
    expect(capture.lines.some((line) => line.includes('config sync caught up: 7 pages, 31 entries'))).toBe(true);
    stub.intercept = () => ({
      status: 200,
      body: { users: [], tokens: [{ tokenHash: 'nothex', userId: 'a', type: 'revoked', at: 1 }], nextCursor: 'c9', hasMore: false },
    });
    expect(await sync.syncNow()).toMatchObject({ ok: true, rejected: 1, tokenEvents: 0 });
  });
});
