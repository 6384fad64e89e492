import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createCluster } from '@redis/client';
import { isMultiTenantError, type TokenChange } from '@openclaw-mt/core';
import { eventually, sampleTokenRecord } from '@openclaw-mt/core/testing';
import { createRedisAdapter, type AnyRedisCluster } from '@openclaw-mt/adapter-redis';
import { Leftovers } from './support/fixture.js';
import { redisConformance } from './support/conformance.js';
import { startNode, stopNode } from './support/fleet.js';
import { startRedisCluster, uniquePrefix, type RedisClusterProcesses } from './support/redis-servers.js';

// The kit against a 3-master Redis Cluster started for this file: tenants, tokens and feeds land in
// different slots, so every multi-key script must stay within one hash tag.
let cluster: RedisClusterProcesses;
let leftovers: Leftovers;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  leftovers = new Leftovers({ cluster: cluster.urls });
}, 60_000);

afterAll(async () => {
  await leftovers?.cleanup();
  await cluster?.stop();
});

redisConformance(
  'redis (3-master cluster)',
  () => ({ cluster: cluster.urls }),
  () => leftovers,
  'cluster',
);

describe('on Redis Cluster', () => {
  test('all keys of a tenant share one slot (so its scripts run there), and tenants spread over slots', async () => {
    const prefix = leftovers.prefix(uniquePrefix('slots'));
    const adapter = createRedisAdapter({ cluster: cluster.urls, prefix, nodeId: 'n1', localDir: await leftovers.tempDir('slots') });
    const tenants = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
    try {
      for (const tenantId of tenants) {
        await adapter.tokens.create(sampleTokenRecord(tenantId));
        await adapter.configs.set(tenantId, { config: {} });
        const handle = await adapter.workspaces.open(tenantId, { claim: await adapter.coordinator.claim(tenantId) });
        await handle.close();
      }
      const slotOf = async (key: string): Promise<number> => Number(await leftovers.connection.send(key, ['CLUSTER', 'KEYSLOT', key]));
      const slots = new Set<number>();
      for (const tenantId of tenants) {
        const keys: string[] = [];
        for await (const key of leftovers.connection.scan(`${prefix}:{${tenantId}}:*`)) keys.push(key);
        expect(keys.length).toBeGreaterThan(5);
        const own = new Set(await Promise.all(keys.map(slotOf)));
        expect(own.size, tenantId).toBe(1);
        slots.add([...own][0]!);
      }
      expect(slots.size).toBeGreaterThan(1);
    } finally {
      await adapter.close();
    }
  });

  test('two nodes on the cluster: revocations reach the other node within 1 s and tenants are never held twice', async () => {
    const prefix = leftovers.prefix(uniquePrefix('fleet'));
    const holders = new Map<string, string>();
    const violations: string[] = [];
    const hooks = (id: string) => ({
      leaseWaitMs: 60_000,
      hooks: {
        'tenant:activated': ({ tenantId }: { tenantId: string }) => {
          if (holders.has(tenantId)) violations.push(`${tenantId} on ${id} and ${holders.get(tenantId)}`);
          holders.set(tenantId, id);
        },
        'tenant:evicted': ({ tenantId }: { tenantId: string }) => {
          holders.delete(tenantId);
        },
      },
    });
    const source = { cluster: cluster.urls };
    const a = await startNode({ id: 'node-a', prefix, source, leftovers, manager: hooks('node-a') });
    const b = await startNode({ id: 'node-b', prefix, source, leftovers, manager: hooks('node-b') });
    try {
      const { token } = await a.manager.tokens.create('acme');
      await b.manager.authenticate(token);
      await a.manager.tokens.revoke(token);
      await eventually(
        async () => {
          try {
            await b.manager.authenticate(token);
            return false;
          } catch (error) {
            return isMultiTenantError(error, 'TOKEN_REVOKED');
          }
        },
        1_000,
        'node B to refuse the revoked token',
      );
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const node = i % 2 ? a : b;
          const tenantId = `tenant-${i % 10}`;
          const lease = await node.manager.acquire(tenantId);
          await lease.workspace.append('sessions/log.jsonl', `${i}\n`);
          lease.release();
          await node.manager.evict(tenantId).catch((error) => {
            if (!isMultiTenantError(error, 'TENANT_BUSY')) throw error;
          });
        }),
      );
      expect(violations).toEqual([]);
    } finally {
      await stopNode(a);
      await stopNode(b);
    }
  }, 60_000);

  test('an injected cluster client is used as is, duplicated for pub/sub, and left open', async () => {
    const client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) }) as unknown as AnyRedisCluster;
    client.on('error', () => undefined);
    await client.connect();
    const prefix = leftovers.prefix(uniquePrefix('injected'));
    const adapter = createRedisAdapter({ client, prefix, nodeId: 'n1', localDir: await leftovers.tempDir('injected') });
    try {
      await adapter.ready();
      const seen: TokenChange[] = [];
      const unwatch = adapter.tokens.watch((change) => seen.push(change));
      const record = sampleTokenRecord('acme');
      await adapter.tokens.create(record);
      expect(await adapter.tokens.get(record.tokenHash)).toEqual(record);
      await adapter.tokens.revoke(record.tokenHash);
      await eventually(
        () => seen.some((change) => change.type === 'revoked'),
        5_000,
        'the revocation through the duplicated cluster subscriber',
      );
      unwatch();
    } finally {
      await adapter.close();
    }
    expect(client.isOpen).toBe(true);
    await client.close();
  });
});
