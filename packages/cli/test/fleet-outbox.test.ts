import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisAdapter } from '@openclaw-mt/adapter-redis';
import { TenantManager } from '@openclaw-mt/core';
import { connectGateway } from '@openclaw-mt/gateway';
import { startRedisServer, type RedisServer } from '../../adapter-redis/test/support/redis-servers.js';
import { run, serve, tempDir } from './support/cli-process.js';

// Two `serve` nodes on one Redis, each host with its own data directory; the operator works on node A's host.
type Node = Awaited<ReturnType<typeof serve>>;
let redis: RedisServer;
let cwd: string;
let prefix: string;
let configA: string;
const nodes: Node[] = [];

async function writeConfig(name: string, secret: string): Promise<string> {
  const path = join(cwd, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      multiTenant: {
        adapter: 'redis',
        redis: { url: redis.url, prefix, readyTimeoutMs: 1_000 },
        dataDir: join(cwd, `data-${name}`),
        admin: { enabled: false },
        gateway: { drainTimeoutMs: 2_000, fleet: { secret, port: 0 } },
      },
    }),
  );
  return path;
}

beforeAll(async () => {
  // AOF fsynced on every write: what the fleet guide asks of a production Redis.
  redis = await startRedisServer({ appendOnly: true });
  cwd = await tempDir();
  prefix = `outbox-${randomBytes(3).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  configA = await writeConfig('a', secret);
  const configB = await writeConfig('b', secret);
  nodes.push(await serve(['--config', configA], { cwd }), await serve(['--config', configB], { cwd }));
});

afterAll(async () => {
  for (const node of nodes) node.child.kill('SIGKILL');
  await redis?.stop('SIGKILL');
});

describe('revocations and suspensions made while Redis is down', () => {
  test('are queued on the host, and delivered when Redis returns: the sockets on the other node close', async () => {
    const adapter = createRedisAdapter({ url: redis.url, prefix, nodeId: 'outbox-test-tokens', localDir: join(cwd, 'tools') });
    const manager = new TenantManager(adapter);
    const revoked = (await manager.tokens.create('outbox-revoked')).token;
    const suspended = (await manager.tokens.create('outbox-suspended')).token;
    await manager.close();
    await adapter.close();
    const b = nodes[1]!;
    const onRevoked = await connectGateway({ url: b.url, token: revoked });
    const onSuspended = await connectGateway({ url: b.url, token: suspended });

    await redis.stop();
    const [revoke, suspend] = await Promise.all([
      run(['tokens', 'revoke', revoked, '--json', '--config', configA], { cwd }),
      run(['users', 'suspend', 'outbox-suspended', '--json', '--config', configA], { cwd }),
    ]);
    // What the operator sees: a coded, retryable error that says the change is queued, not lost.
    for (const answer of [revoke, suspend]) {
      expect(answer.code).toBe(4);
      const { error } = JSON.parse(answer.stderr.trim().split('\n').at(-1)!) as {
        error: { code: string; message: string; details: unknown };
      };
      expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', details: { queued: true } });
      expect(error.message).toMatch(/queued .* do not repeat it/);
      expect(answer.stderr).not.toContain(revoked);
    }
    const outbox = join(cwd, 'data-a', 'redis-outbox', prefix);
    expect((await readdir(outbox)).filter((name) => name.endsWith('.json'))).toHaveLength(2);

    await redis.start();
    const back = Date.now();
    // Node A delivers both; node B hears of them and closes the sessions.
    const [revokedClose, suspendedClose] = await Promise.all([onRevoked.closed, onSuspended.closed]);
    const deliveredMs = Date.now() - back;
    expect(revokedClose.code).toBe(1008);
    expect(suspendedClose.code).toBe(1008);
    expect((await readdir(outbox)).filter((name) => name.endsWith('.json'))).toEqual([]);
    console.info(`queued revocation and suspension delivered ${deliveredMs} ms after Redis answered again`);

    // Both stay in force for new connections, through either node.
    for (const node of nodes) {
      await expect(connectGateway({ url: node.url, token: revoked })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(connectGateway({ url: node.url, token: suspended })).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
    }
  }, 60_000);
});
