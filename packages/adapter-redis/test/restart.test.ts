import { rm } from 'node:fs/promises';
import { afterAll, expect, test } from 'vitest';
import { isMultiTenantError, type TenantConfigEntry, type EvictionReason } from '@openclaw-mt/core';
import { eventually } from '@openclaw-mt/core/testing';
import { createRedisAdapter, RedisKeys } from '@openclaw-mt/adapter-redis';
import { Leftovers } from './support/fixture.js';
import { startNode, stopNode, type FleetNode } from './support/fleet.js';
import { startRedisServer, uniquePrefix, type RedisServer } from './support/redis-servers.js';

// Redis restarted under a running fleet: an own server with AOF (appendfsync always), crashed with
// SIGKILL. While both nodes are cut off, another client changes data on the same dataset (served
// from the same AOF on a second port), then the server comes back on its port.
const servers: RedisServer[] = [];
const nodes: FleetNode[] = [];
let leftovers: Leftovers | undefined;

afterAll(async () => {
  for (const node of nodes) await stopNode(node).catch(() => undefined);
  await leftovers?.cleanup();
  for (const server of servers) {
    await server.stop('SIGKILL');
    await rm(server.dir, { recursive: true, force: true });
  }
});

async function refusal(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
    return undefined;
  } catch (error) {
    return isMultiTenantError(error) ? error.code : String(error);
  }
}

test('after a Redis restart both nodes reconnect, lose no acknowledged write, recover leases and replay what they missed', async () => {
  const server = await startRedisServer({ appendOnly: true });
  servers.push(server);
  leftovers = new Leftovers({ url: server.url });
  const prefix = uniquePrefix('restart');
  const keys = new RedisKeys(prefix);
  const evictedOnB: Array<{ tenantId: string; reason: EvictionReason }> = [];
  // No periodic replay: what B missed must come back through the resubscription alone.
  const adapter = { resyncIntervalMs: 0 };
  const a = await startNode({ id: 'node-a', prefix, source: { url: server.url }, leftovers, leaseTtlMs: 20_000, adapter });
  nodes.push(a);
  const b = await startNode({
    id: 'node-b',
    prefix,
    source: { url: server.url },
    leftovers,
    leaseTtlMs: 20_000,
    adapter,
    manager: { leaseWaitMs: 30_000, hooks: { 'tenant:evicted': (event) => void evictedOnB.push(event) } },
  });
  nodes.push(b);
  const seenByB: TenantConfigEntry[] = [];
  const unwatch = b.adapter.configs.watch((entry) => seenByB.push(entry));

  // Acknowledged writes before the crash.
  const doomed = await a.manager.tokens.create('alpha', { label: 'revoked while B is away' });
  const kept = await a.manager.tokens.create('beta', { label: 'kept' });
  const alphaConfig = await a.adapter.configs.set('alpha', { config: { model: 'sonnet' } });
  await a.adapter.configs.set('gamma', { config: { plan: 'pro' } });
  expect((await b.manager.authenticate(doomed.token)).tenantId).toBe('alpha');
  expect((await b.manager.authenticate(kept.token)).tenantId).toBe('beta');
  const leaseA = await a.manager.acquire('alpha');
  await leaseA.workspace.write('workspace/USER.md', 'acknowledged before the crash');
  leaseA.release();
  const leaseB = await b.manager.acquire('gamma');
  leaseB.release();

  await server.stop('SIGKILL');
  // Down: every store call fails with a coded error, nothing hangs.
  expect(await refusal(() => a.adapter.configs.get('alpha'))).toBe('BACKEND_UNAVAILABLE');
  expect(await refusal(() => b.adapter.tokens.get(kept.record.tokenHash))).toBe('BACKEND_UNAVAILABLE');

  // Another client changes the same dataset while the nodes are cut off.
  const side = await startRedisServer({ appendOnly: true, dir: server.dir });
  servers.push(side);
  const admin = createRedisAdapter({ url: side.url, prefix, nodeId: 'admin', localDir: await leftovers.tempDir('admin') });
  await admin.tokens.revoke(doomed.record.tokenHash);
  await admin.configs.set('gamma', { status: 'suspended' });
  const delta = await admin.configs.set('delta', { config: { added: 'while B was away' } });
  await admin.close();
  await side.stop('SIGTERM');
  await server.start();

  // Both nodes reconnect on their own.
  await eventually(
    async () =>
      (await refusal(() => a.adapter.configs.get('alpha'))) === undefined &&
      (await refusal(() => b.adapter.configs.get('alpha'))) === undefined,
    20_000,
    'both nodes to reconnect',
  );

  // The changes made while they were away are replayed.
  await eventually(
    async () => (await refusal(() => b.manager.authenticate(doomed.token))) === 'TOKEN_REVOKED',
    15_000,
    'B to refuse the token revoked meanwhile',
  );
  await eventually(
    () => evictedOnB.some((event) => event.tenantId === 'gamma' && event.reason === 'suspended'),
    15_000,
    'B to evict the tenant suspended meanwhile',
  );
  await eventually(
    () => seenByB.some((entry) => entry.tenantId === 'delta' && entry.version === delta.version),
    15_000,
    'B to see the config added meanwhile',
  );

  // Nothing acknowledged was lost.
  expect((await b.manager.authenticate(kept.token)).tenantId).toBe('beta');
  expect(await b.adapter.configs.get('alpha')).toEqual(alphaConfig);
  const file = await leftovers.connection.send<string | null>(keys.workspaceFile('alpha', 'workspace/USER.md'), [
    'GET',
    keys.workspaceFile('alpha', 'workspace/USER.md'),
  ]);
  expect(file).toBe('acknowledged before the crash');

  // Leases recover: A still holds alpha (renewed after the restart), so B is refused until A lets go.
  let held: unknown;
  try {
    await b.adapter.coordinator.claim('alpha');
  } catch (error) {
    held = error;
  }
  expect(isMultiTenantError(held, 'LEASE_HELD') && held.details.owner).toBe('node-a');
  await a.manager.evict('alpha');
  const moved = await b.manager.acquire('alpha');
  expect(new TextDecoder().decode(await moved.workspace.read('workspace/USER.md'))).toBe('acknowledged before the crash');
  moved.release();
  const fresh = await a.manager.acquire('epsilon');
  fresh.release();

  // B's subscriber reconnects on its own backoff (up to 2 s between attempts), not with its command connection: once a
  // change A makes now reaches B's watch, it is back and resubscribed (without periodic replays nothing else brings it).
  const probe = await a.adapter.configs.set('zeta', { config: { probe: true } });
  await eventually(
    () => seenByB.some((entry) => entry.tenantId === 'zeta' && entry.version === probe.version),
    15_000,
    "B's subscriber to be back",
  );
  // And live announcements work again after the resubscription: with no periodic replay and the subscriber already
  // back, only the announcement brings this revocation to B (the deadline allows for a host busy with other tests).
  await a.manager.tokens.revoke(kept.token);
  await eventually(
    async () => (await refusal(() => b.manager.authenticate(kept.token))) === 'TOKEN_REVOKED',
    10_000,
    'B to refuse a token revoked after the restart',
  );
  unwatch();
}, 120_000);
