import { randomBytes, randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisAdapter } from '@openclaw-mt/adapter-redis';
import { TenantManager } from '@openclaw-mt/core';
import { connectGateway, GatewayRequestError, type GatewayConnection } from '@openclaw-mt/gateway';
import { startRedisServer, type RedisServer } from '../../adapter-redis/test/support/redis-servers.js';
import { serve, tempDir } from './support/cli-process.js';

// Three `serve` processes on one Redis, restarted one at a time under steady traffic, as an operator
// rolls out a new version behind an L4 load balancer without stickiness.
type Node = Awaited<ReturnType<typeof serve>>;
const TENANTS = 20;
const DRAIN_TIMEOUT_MS = 10_000;
let redis: RedisServer;
let config: string;
let cwd: string;
let tokens: string[] = [];
const nodes: Node[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  cwd = await tempDir();
  config = join(cwd, 'config.json');
  const prefix = `rolling-${randomBytes(3).toString('hex')}`;
  await writeFile(
    config,
    JSON.stringify({
      multiTenant: {
        adapter: 'redis',
        redis: { url: redis.url, prefix },
        dataDir: join(cwd, 'data'),
        admin: { enabled: false },
        gateway: { drainTimeoutMs: DRAIN_TIMEOUT_MS, fleet: { secret: randomBytes(24).toString('base64url'), port: 0 } },
      },
    }),
  );
  const adapter = createRedisAdapter({ url: redis.url, prefix, nodeId: 'rolling-test-tokens', localDir: join(cwd, 'tools') });
  const manager = new TenantManager(adapter);
  tokens = await Promise.all(Array.from({ length: TENANTS }, (_, i) => manager.tokens.create(`rolling-${i}`).then((made) => made.token)));
  await manager.close();
  await adapter.close();
  for (let i = 0; i < 3; i++) nodes.push(await serve(['--config', config], { cwd }));
}, 60_000);

afterAll(async () => {
  for (const node of nodes) node.child.kill('SIGKILL');
  await redis?.stop('SIGKILL');
});

/**
 * Whether a failure is one docs/fleet.md tells clients to retry: a refused or dropped connection
 * (the node is down or draining), close 1012 or 1013, or a retryable error (`UNAVAILABLE`).
 */
function retryable(error: unknown): boolean {
  if (!(error instanceof GatewayRequestError)) return false;
  if (error.shape.retryable === true || error.shape.code === 'UNAVAILABLE') return true;
  return error.shape.code === 'CLOSED' && (error.closeCode === undefined || [1006, 1012, 1013].includes(error.closeCode));
}

function retryDelay(error: unknown): number {
  const hint = error instanceof GatewayRequestError ? error.shape.retryAfterMs : undefined;
  return Math.min(typeof hint === 'number' ? hint : 100, 1_000);
}

describe('a rolling restart of three serve processes', () => {
  test('every node exits within its drain timeout and no request of a retrying client fails', async () => {
    const failures: string[] = [];
    const counts = { requests: 0, retries: 0 };
    let running = true;

    /** One client: a random node per connect, a few requests per session, each request retried as documented. */
    async function client(worker: number): Promise<void> {
      let connection: GatewayConnection | undefined;
      let tenant = randomInt(TENANTS);
      let sent = 0;
      while (running) {
        const message = `w${worker}-${sent}`;
        for (let attempt = 0; ; attempt++) {
          try {
            connection ??= await connectGateway({ url: nodes[randomInt(nodes.length)]!.url, token: tokens[tenant]! });
            const reply = await connection.request<{ reply: string }>('chat.send', { message });
            if (reply.reply !== `You said: ${message}`) failures.push(`${message}: wrong reply ${reply.reply}`);
            counts.requests++;
            break;
          } catch (error) {
            connection?.close();
            connection = undefined;
            if (!retryable(error) || attempt >= 100) {
              failures.push(
                `${message}: ${error instanceof GatewayRequestError ? `${JSON.stringify(error.shape)} ${error.closeCode ?? ''}` : String(error)}`,
              );
              break;
            }
            counts.retries++;
            await new Promise((resolve) => setTimeout(resolve, retryDelay(error)));
          }
        }
        sent++;
        // A new session (another user, another random node) every few requests.
        if (sent % 5 === 0) {
          connection?.close();
          connection = undefined;
          tenant = randomInt(TENANTS);
        }
      }
      connection?.close();
    }

    const clients = Array.from({ length: 6 }, (_, worker) => client(worker));
    const exits: Array<{ code: number; ms: number }> = [];
    for (let i = 0; i < nodes.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const node = nodes[i]!;
      const stopping = Date.now();
      node.child.kill('SIGTERM');
      const code = await node.exited;
      exits.push({ code, ms: Date.now() - stopping });
      // Restarted before the next one stops (on a new port, as a replaced instance would be).
      nodes[i] = await serve(['--config', config], { cwd });
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    running = false;
    await Promise.all(clients);

    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
    for (const exit of exits) expect(exit.ms).toBeLessThan(DRAIN_TIMEOUT_MS);
    expect(failures).toEqual([]);
    expect(counts.requests).toBeGreaterThan(100);
    console.info(
      `rolling restart: ${counts.requests} requests, 0 failed, ${counts.retries} retried; nodes exited after ${exits.map((exit) => exit.ms).join(', ')} ms`,
    );
  }, 90_000);
});
