import { afterAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { createClient } from '@redis/client';
import { defaultWorkspaceTemplate, isValidTenantId } from '@openclaw-mt/core/contracts';
import type { TenantConfigEntry, TokenChange } from '@openclaw-mt/core';
import { eventually, randomTenantId, rejectsWithCode, sampleTokenRecord } from '@openclaw-mt/core/testing';
import {
  shardOfTenant,
  assertKeyPrefix,
  createRedisAdapter,
  createRedisConfigSource,
  createRedisTokenStore,
  RedisKeys,
  type AnyRedisClient,
} from '@openclaw-mt/adapter-redis';
import { Leftovers } from './support/fixture.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/redis-servers.js';

// Options, key layout, TTLs, versions, injected clients and replay after a dropped subscriber.
const leftovers = new Leftovers({ url: SHARED_REDIS_URL });
afterAll(() => leftovers.cleanup());

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of leftovers.connection.scan(`${prefix}:*`)) found.push(key);
  return found.sort();
}

describe('options', () => {
  test('prefixes that would change hash tags or SCAN patterns are refused', () => {
    for (const bad of ['', 'a{b}', 'a}', 'a*', 'a?', 'a[b]', 'a b', 'trailing:', ':leading', 'x'.repeat(200)]) {
      expect(() => assertKeyPrefix(bad), JSON.stringify(bad)).toThrow(/prefix/);
    }
    expect(assertKeyPrefix('ocmt:prod-1.eu')).toBe('ocmt:prod-1.eu');
  });

  test('exactly one of url, cluster or client is required', () => {
    expect(() => createRedisTokenStore({ prefix: 'p' })).toThrow(/exactly one/);
    expect(() => createRedisTokenStore({ prefix: 'p', url: SHARED_REDIS_URL, cluster: [SHARED_REDIS_URL] })).toThrow(/exactly one/);
  });

  test('tenant keys round-trip through their hash tag and never collide', () => {
    const keys = new RedisKeys('ocmt');
    const tenantId = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,20}[A-Za-z0-9_-])?$/);
    fc.assert(
      fc.property(tenantId, tenantId, (a, b) => {
        fc.pre(isValidTenantId(a) && isValidTenantId(b));
        expect(keys.tenantFromKey(keys.config(a), 'config')).toBe(a);
        expect(keys.tenantFromKey(keys.workspaceState(a), 'ws:state')).toBe(a);
        if (a !== b) expect(keys.config(a)).not.toBe(keys.config(b));
      }),
    );
    // The feed shards' tags can never be a tenant's.
    for (let shard = 0; shard < 16; shard++) expect(keys.tenantFromKey(keys.configSeq(shard), 'config-seq')).toBeUndefined();
  });
});

describe('key layout and lifetimes', () => {
  test('every key sits under the prefix, tenant keys carry the tenant as hash tag', async () => {
    const prefix = leftovers.prefix(uniquePrefix('layout'));
    const keys = new RedisKeys(prefix);
    const adapter = createRedisAdapter({ url: SHARED_REDIS_URL, prefix, nodeId: 'n1', localDir: await leftovers.tempDir('layout') });
    try {
      const record = sampleTokenRecord('acme');
      await adapter.tokens.create(record);
      await adapter.configs.set('acme', { config: {} });
      const handle = await adapter.workspaces.open('acme', { claim: await adapter.coordinator.claim('acme') });
      await handle.close();
      const expected = [
        `${prefix}:tok:{${record.tokenHash}}`,
        // acme's changes go to acme's feed shard, not to one slot shared by every tenant.
        keys.tokenEvents(shardOfTenant('acme')),
        keys.configSeq(shardOfTenant('acme')),
        keys.configFeed(shardOfTenant('acme')),
        `${prefix}:{acme}:tokens`,
        `${prefix}:{acme}:config`,
        `${prefix}:{acme}:config-version`,
        `${prefix}:{acme}:lease`,
        `${prefix}:{acme}:fence`,
        `${prefix}:{acme}:ws:state`,
        `${prefix}:{acme}:ws:meta`,
        ...[...defaultWorkspaceTemplate().files.keys()].map((name) => `${prefix}:{acme}:ws:file:${name}`),
      ];
      expect(await keysUnder(prefix)).toEqual(expected.sort());
    } finally {
      await adapter.close();
    }
  });

  test('token records expire at expiresAt plus the retention period; records without expiry persist', async () => {
    const prefix = leftovers.prefix(uniquePrefix('ttl'));
    const keys = new RedisKeys(prefix);
    const store = createRedisTokenStore({ url: SHARED_REDIS_URL, prefix, expiredRetentionMs: 0 });
    try {
      const forever = sampleTokenRecord('acme');
      const brief = sampleTokenRecord('acme', { expiresAt: Date.now() + 200 });
      await store.create(forever);
      await store.create(brief);
      expect(await leftovers.connection.send(keys.tokenRecord(forever.tokenHash), ['PTTL', keys.tokenRecord(forever.tokenHash)])).toBe(-1);
      const ttl = Number(await leftovers.connection.send(keys.tokenRecord(brief.tokenHash), ['PTTL', keys.tokenRecord(brief.tokenHash)]));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(200);
      await eventually(async () => (await store.get(brief.tokenHash)) === undefined, 5_000, 'the expired record to disappear');
      expect((await store.listByTenant('acme')).map((record) => record.tokenHash)).toEqual([forever.tokenHash]);
    } finally {
      await store.close();
    }
  });

  test('config versions are never reused, even after remove', async () => {
    const prefix = leftovers.prefix(uniquePrefix('versions'));
    const source = createRedisConfigSource({ url: SHARED_REDIS_URL, prefix });
    try {
      await source.set('acme', { config: { v: 1 } });
      await source.set('acme', { config: { v: 2 } });
      expect(await source.remove('acme')).toBe(true);
      expect(await source.remove('acme')).toBe(false);
      expect(await source.get('acme')).toBeUndefined();
      await rejectsWithCode(() => source.set('acme', { config: {} }, { ifVersion: 2 }), 'CONFLICT');
      const again = await source.set('acme', { config: { v: 3 } }, { ifVersion: 0 });
      expect(again.version).toBe(3);
      expect(await source.put({ ...again, version: 3, config: { same: true } })).toBe(false);
    } finally {
      await source.close();
    }
  });
});

describe('connections', () => {
  test('an injected RESP2 client works and is left open; the adapter only closes what it opened', async () => {
    const client = createClient({ url: SHARED_REDIS_URL, RESP: 2 }) as unknown as AnyRedisClient;
    client.on('error', () => undefined);
    await client.connect();
    const prefix = leftovers.prefix(uniquePrefix('injected'));
    const adapter = createRedisAdapter({ client, prefix, nodeId: 'n1', localDir: await leftovers.tempDir('injected') });
    try {
      const record = sampleTokenRecord('acme', { label: 'resp2' });
      await adapter.tokens.create(record);
      expect(await adapter.tokens.get(record.tokenHash)).toEqual(record);
      expect(await adapter.tokens.listByTenant('acme')).toEqual([record]);
      const entry = await adapter.configs.set('acme', { config: { nested: { ok: true } } });
      expect(await adapter.configs.get('acme')).toEqual(entry);
      expect((await adapter.configs.changes(undefined, 10)).entries).toEqual([entry]);
      const handle = await adapter.workspaces.open('acme');
      await handle.write('workspace/bytes.bin', new Uint8Array([0, 255, 1, 128]));
      expect([...(await handle.read('workspace/bytes.bin'))]).toEqual([0, 255, 1, 128]);
      expect((await handle.list('workspace')).find((file) => file.name === 'workspace/bytes.bin')?.size).toBe(4);
      await handle.close();
      await adapter.ready();
      const seen: TokenChange[] = [];
      const unwatch = adapter.tokens.watch((change) => seen.push(change));
      await adapter.tokens.revoke(record.tokenHash);
      await eventually(
        () => seen.some((change) => change.type === 'revoked' && change.tokenHash === record.tokenHash),
        5_000,
        'the revocation, through the duplicated subscriber',
      );
      unwatch();
    } finally {
      await adapter.close();
    }
    expect(client.isOpen).toBe(true);
    expect(await client.sendCommand(['PING'])).toBe('PONG');
    await client.close();
  });

  test('watchers replay the changes they missed while their subscriber was disconnected', async () => {
    const prefix = leftovers.prefix(uniquePrefix('replay'));
    const writer = createRedisAdapter({ url: SHARED_REDIS_URL, prefix, nodeId: 'writer', localDir: await leftovers.tempDir('w') });
    // A distinct client name, so the test can cut exactly this node's subscriber.
    const readerName = `reader-${prefix}`;
    const readerClient = createClient({ url: SHARED_REDIS_URL, name: readerName }) as unknown as AnyRedisClient;
    readerClient.on('error', () => undefined);
    // Injected with a distinct client name, so the test can cut exactly this node's subscriber.
    const reader = createRedisAdapter({
      client: readerClient,
      prefix,
      nodeId: 'reader',
      localDir: await leftovers.tempDir('r'),
      resyncIntervalMs: 0,
    });
    await Promise.all([writer.ready(), reader.ready()]);
    const configs: TenantConfigEntry[] = [];
    const tokens: TokenChange[] = [];
    const unwatchConfigs = reader.configs.watch((entry) => configs.push(entry));
    const unwatchTokens = reader.tokens.watch((change) => tokens.push(change));
    try {
      const tenantId = randomTenantId();
      await writer.configs.set(tenantId, { config: { n: 1 } });
      await eventually(() => configs.length === 1, 5_000, 'the first change');
      // Drop the reader's subscriber (its duplicated connection carries the same name) and write at once.
      const clients = String(await leftovers.connection.send(undefined, ['CLIENT', 'LIST'])).split('\n');
      const subscriber = clients.find((line) => line.includes(` name=${readerName} `) && / sub=[1-9]/.test(line));
      expect(subscriber, 'the reader has a subscriber connection').toBeDefined();
      await leftovers.connection.send(undefined, ['CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(subscriber!)![1]!]);
      const record = sampleTokenRecord(tenantId);
      await writer.tokens.create(record);
      await writer.tokens.revoke(record.tokenHash);
      await writer.configs.set(tenantId, { status: 'suspended' });
      await eventually(() => configs.some((entry) => entry.status === 'suspended'), 10_000, 'the suspension after the reconnect');
      await eventually(
        () => tokens.some((change) => change.type === 'revoked' && change.tokenHash === record.tokenHash),
        10_000,
        'the revocation after the reconnect',
      );
    } finally {
      unwatchConfigs();
      unwatchTokens();
      await writer.close();
      await reader.close();
      await readerClient.close();
    }
  });
});
