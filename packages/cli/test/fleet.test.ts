import { randomBytes, randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisAdapter } from '@openclaw-mt/adapter-redis';
import { TenantManager } from '@openclaw-mt/core';
import { connectGateway, GatewayRequestError } from '@openclaw-mt/gateway';
import { startRedisServer, type RedisServer } from '../../adapter-redis/test/support/redis-servers.js';
import { run, serve, tempDir } from './support/cli-process.js';

// Three `serve` processes on one Redis this file starts, as behind any L4 load balancer without stickiness.
type Node = Awaited<ReturnType<typeof serve>>;
const TENANTS = 50;
let redis: RedisServer;
let config: string;
let cwd: string;
let prefix: string;
let tokens: string[] = [];
const nodes: Node[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  cwd = await tempDir();
  config = join(cwd, 'config.json');
  prefix = `fleet-${randomBytes(3).toString('hex')}`;
  await writeFile(
    config,
    JSON.stringify({
      multiTenant: {
        adapter: 'redis',
        redis: { url: redis.url, prefix },
        dataDir: join(cwd, 'data'),
        admin: { enabled: false },
        gateway: { drainTimeoutMs: 2_000, fleet: { secret: randomBytes(24).toString('base64url'), port: 0 } },
      },
    }),
  );
  // Tokens straight through the library: the CLI would take a process per token.
  const adapter = createRedisAdapter({ url: redis.url, prefix, nodeId: 'fleet-test-tokens', localDir: join(cwd, 'tools') });
  const manager = new TenantManager(adapter);
  tokens = await Promise.all(
    Array.from({ length: TENANTS }, (_, i) => manager.tokens.create(`fleet-user-${i}`).then((made) => made.token)),
  );
  await manager.close();
  await adapter.close();
  for (let i = 0; i < 3; i++) nodes.push(await serve(['--config', config], { cwd }));
});

afterAll(async () => {
  for (const node of nodes) node.child.kill('SIGKILL');
  await redis?.stop('SIGKILL');
});

describe('a fleet of three serve processes', () => {
  test('every node accepts every tenant: 0 refused over 500 connects of 50 tenants to a random node each', async () => {
    for (const node of nodes) expect(node.output()).toMatch(/fleet:\s+ws:\/\/127\.0\.0\.1:\d+/);
    const refused: string[] = [];
    let served = 0;
    const connects = Array.from({ length: 500 }, (_, i) => i);
    // Ten clients at a time, each connect to a node picked at random.
    await Promise.all(
      Array.from({ length: 10 }, async (_, worker) => {
        for (let i = worker; i < connects.length; i += 10) {
          const tenant = randomInt(TENANTS);
          const node = nodes[randomInt(nodes.length)]!;
          try {
            const connection = await connectGateway({ url: node.url, token: tokens[tenant]! });
            expect(connection.hello).toMatchObject({ type: 'hello-ok', snapshot: { tenantId: `fleet-user-${tenant}` } });
            const reply = await connection.request<{ reply: string }>('chat.send', { message: `n${i}` });
            expect(reply.reply).toBe(`You said: n${i}`);
            served++;
            connection.close();
            await connection.closed;
          } catch (error) {
            refused.push(error instanceof GatewayRequestError ? `${error.code} ${error.closeCode}` : String(error));
          }
        }
      }),
    );
    expect(refused).toEqual([]);
    expect(served).toBe(500);
  });

  test('a forwarded session is the owner session: a revocation closes it with 1008, through whichever node it came', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const owned = await connectGateway({ url: a.url, token: tokens[0]! });
    const forwarded = await connectGateway({ url: b.url, token: tokens[0]! });
    // Both sessions write to one workspace: the second sees the first's file.
    await owned.request('workspace.write', { name: 'MEMORY.md', content: 'from a' });
    expect(await forwarded.request('workspace.read', { name: 'MEMORY.md' })).toMatchObject({ content: 'from a' });
    const adapter = createRedisAdapter({ url: redis.url, prefix, nodeId: 'fleet-test-revoke', localDir: join(cwd, 'tools') });
    const manager = new TenantManager(adapter);
    await manager.tokens.revoke(tokens[0]!);
    await manager.close();
    await adapter.close();
    expect((await forwarded.closed).code).toBe(1008);
    expect((await owned.closed).code).toBe(1008);
  });

  test('users evict works wherever the tenant lives: the CLI asks the node holding the lease', async () => {
    const connection = await connectGateway({ url: nodes[2]!.url, token: tokens[7]! });
    const evicted = await run(['users', 'evict', 'fleet-user-7', '--force', '--json', '--config', config], { cwd });
    expect(evicted.code).toBe(0);
    expect(JSON.parse(evicted.stdout)).toMatchObject({ tenantId: 'fleet-user-7', evicted: true });
    expect((await connection.closed).code).toBe(1012);
    const again = await run(['users', 'evict', 'fleet-user-7', '--json', '--config', config], { cwd });
    expect(JSON.parse(again.stdout)).toMatchObject({ evicted: false });
  });

  test('users list, users info and stats ask every live node and say which node holds each tenant', async () => {
    const first = await connectGateway({ url: nodes[0]!.url, token: tokens[11]! });
    const second = await connectGateway({ url: nodes[2]!.url, token: tokens[12]! });
    const pidOf = (nodeId: string | undefined) => Number(nodeId?.split('-').pop());
    const listed = await run(['users', 'list', '--live', '--json', '--config', config], { cwd });
    expect(listed.code).toBe(0);
    const { tenants, nodes: asked } = JSON.parse(listed.stdout) as {
      tenants: Array<{ tenantId: string; active?: boolean; connections?: number; node?: string }>;
      nodes: Array<{ nodeId: string; reachable: boolean }>;
    };
    expect(asked.map((node) => pidOf(node.nodeId)).sort()).toEqual(nodes.map((node) => node.child.pid).sort());
    expect(asked.every((node) => node.reachable)).toBe(true);
    const eleven = tenants.find((tenant) => tenant.tenantId === 'fleet-user-11');
    const twelve = tenants.find((tenant) => tenant.tenantId === 'fleet-user-12');
    expect(eleven).toMatchObject({ active: true, connections: 1 });
    expect(twelve).toMatchObject({ active: true, connections: 1 });
    // The node named is the one whose lease holds the tenant.
    const client = createClient({ url: redis.url });
    await client.connect();
    const lease = await client.get(`${prefix}:{fleet-user-11}:lease`);
    await client.close();
    expect(lease).toContain(eleven!.node!);
    const table = await run(['users', 'list', '--config', config], { cwd });
    expect(table.stdout).toMatch(new RegExp(`fleet-user-11 .*active, 1 connection.* ${eleven!.node}`));

    const info = await run(['users', 'info', 'fleet-user-12', '--json', '--config', config], { cwd });
    expect(JSON.parse(info.stdout).live).toMatchObject({ active: true, connections: 1, node: twelve!.node });

    const stats = await run(['stats', '--json', '--config', config], { cwd });
    expect(stats.code).toBe(0);
    const figures = JSON.parse(stats.stdout) as {
      nodes: Array<{ nodeId: string; resident: number; connections: number }>;
      total: { resident: number; connections: number };
    };
    expect(figures.nodes).toHaveLength(3);
    expect(figures.total.resident).toBe(figures.nodes.reduce((sum, node) => sum + node.resident, 0));
    expect(figures.total.connections).toBeGreaterThanOrEqual(2);
    first.close();
    second.close();
    await Promise.all([first.closed, second.closed]);
  });

  test('a connection quota lowered with config set closes the newest sessions beyond it, owned and forwarded alike', async () => {
    const token = tokens[20]!;
    // The first session makes its node the owner; the others come through other nodes and are forwarded to it.
    const sessions = [];
    for (const node of [nodes[0]!, nodes[1]!, nodes[2]!, nodes[1]!]) sessions.push(await connectGateway({ url: node.url, token }));
    for (const session of sessions) expect(await session.request('health')).toBeDefined();
    const set = await run(['config', 'set', 'fleet-user-20', '{"quotas":{"connections":2}}', '--config', config], { cwd });
    expect(set.code).toBe(0);
    const lowered = { code: 1008, reason: 'connection quota lowered to 2' };
    expect(await sessions[3]!.closed).toEqual(lowered);
    expect(await sessions[2]!.closed).toEqual(lowered);
    for (const kept of sessions.slice(0, 2)) expect(await kept.request('health')).toBeDefined();
    for (const kept of sessions.slice(0, 2)) kept.close();
    await Promise.all(sessions.map((session) => session.closed));
  });

  test('kill -9 of a node: its tenants are served again by the others within 5 s, with every acknowledged write', async () => {
    const victim = nodes[1]!;
    const survivors = [nodes[0]!, nodes[2]!];
    // Every tenant active somewhere, each with one acknowledged write.
    for (let i = 1; i < TENANTS; i++) {
      const connection = await connectGateway({ url: nodes[i % 3]!.url, token: tokens[i]! });
      await connection.request('workspace.write', { name: 'MEMORY.md', content: `note ${i}` });
      connection.close();
      await connection.closed;
    }
    const client = createClient({ url: redis.url });
    await client.connect();
    const owners = await Promise.all(
      Array.from({ length: TENANTS - 1 }, (_, i) =>
        client.get(`${prefix}:{fleet-user-${i + 1}}:lease`).then((lease) => [i + 1, lease] as const),
      ),
    );
    await client.close();
    const orphans = owners.filter(([, lease]) => lease?.endsWith(`-${victim.child.pid}`)).map(([tenant]) => tenant);
    expect(orphans.length).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    const servedAfter: number[] = [];
    await Promise.all(
      orphans.map(async (tenant) => {
        // A client retrying as documented: reconnect after a retryable failure, through any live node.
        for (;;) {
          try {
            const connection = await connectGateway({ url: survivors[tenant % 2]!.url, token: tokens[tenant]! });
            const read = await connection.request<{ content: string }>('workspace.read', { name: 'MEMORY.md' });
            connection.close();
            expect(read.content).toBe(`note ${tenant}`);
            servedAfter.push(Date.now() - killedAt);
            return;
          } catch (error) {
            if (!(error instanceof GatewayRequestError)) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }),
    );
    expect(servedAfter).toHaveLength(orphans.length);
    expect(Math.max(...servedAfter)).toBeLessThan(5_000);
  });

  test('SIGTERM: every node exits within its drain timeout, clients get a retryable close', async () => {
    const live = nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    expect(live.length).toBeGreaterThan(0);
    const client = await connectGateway({ url: live[0]!.url, token: tokens[5]! });
    for (const node of live) node.child.kill('SIGTERM');
    const codes = await Promise.all(live.map((node) => node.exited));
    expect(codes).toEqual(live.map(() => 0));
    expect([1012, 1013]).toContain((await client.closed).code);
  });
});
