import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { createRedisAdapter } from '@openclaw-mt/adapter-redis';
import { TenantManager } from '@openclaw-mt/core';
import { connectGateway, createGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { type Benchmark, interleaved, percentile, round } from './harness.js';

const REDIS_URL = process.env.OPENCLAW_MT_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const REQUESTS = 3_000;
const HANDOVERS = 5;
const SECRET = randomBytes(24).toString('base64url');
const CLI = new URL('../packages/cli/bin/openclaw-mt.js', import.meta.url).pathname;

/** Milliseconds for one `health` request to be answered. */
async function timed(connection: GatewayConnection): Promise<number> {
  const started = performance.now();
  await connection.request('health');
  return performance.now() - started;
}

async function dropPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
  await client.close();
}

/** Two nodes in this process on one Redis: a client on the owner, and a client forwarded through the other. */
async function forwardedLatency(prefix: string, dir: string) {
  const node = async (id: string) => {
    const adapter = createRedisAdapter({ url: REDIS_URL, prefix, nodeId: id, localDir: join(dir, id) });
    await adapter.ready();
    const manager = new TenantManager({ ...adapter, idleTimeoutMs: 0 });
    const gateway = createGateway({ manager, port: 0, fleet: { secret: SECRET, port: 0 }, quotas: { requestsPerMinute: 1_000_000 } });
    const { url } = await gateway.listen();
    return { manager, gateway, url, adapter };
  };
  const owner = await node('bench-owner');
  const entry = await node('bench-entry');
  const { token } = await owner.manager.tokens.create('bench-fleet');
  const direct = await connectGateway({ url: owner.url, token });
  const forwarded = await connectGateway({ url: entry.url, token });
  for (let i = 0; i < 300; i++) {
    await timed(direct);
    await timed(forwarded);
  }
  const samples = await interleaved(
    REQUESTS,
    1,
    () => timed(forwarded),
    () => timed(direct),
  );
  direct.close();
  forwarded.close();
  await entry.gateway.close();
  await owner.gateway.close();
  await Promise.all([entry.adapter.close(), owner.adapter.close()]);
  return samples;
}

/** Starts `openclaw-mt serve` and resolves with its client URL once it listens. */
function serve(config: string, cwd: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--config', config], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (ws:\/\/\S+)/.exec(output);
      if (match && /fleet:/.test(output)) resolve({ child, url: match[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
  });
}

/** Milliseconds from kill -9 of the owner until another node answers for the tenant (client retrying every 20 ms). */
async function handovers(prefix: string, dir: string): Promise<number[]> {
  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      multiTenant: {
        adapter: 'redis',
        redis: { url: REDIS_URL, prefix },
        dataDir: join(dir, 'data'),
        admin: { enabled: false },
        monitor: { enabled: false },
        gateway: { fleet: { secret: SECRET, port: 0 } },
      },
    }),
  );
  const tools = createRedisAdapter({ url: REDIS_URL, prefix, nodeId: 'bench-tools', localDir: join(dir, 'tools') });
  const manager = new TenantManager(tools);
  const survivor = await serve(config, dir);
  const times: number[] = [];
  try {
    for (let i = 0; i < HANDOVERS; i++) {
      const { token } = await manager.tokens.create(`bench-handover-${i}`);
      const owner = await serve(config, dir);
      const first = await connectGateway({ url: owner.url, token });
      await first.request('health');
      const lease = await createClient({ url: REDIS_URL })
        .connect()
        .then(async (client) => {
          const value = await client.get(`${prefix}:{bench-handover-${i}}:lease`);
          await client.close();
          return value;
        });
      if (!lease?.endsWith(`${hostname()}-${owner.child.pid}`)) throw new Error('the owner node did not take the tenant');
      owner.child.kill('SIGKILL');
      const killed = performance.now();
      for (;;) {
        try {
          const again = await connectGateway({ url: survivor.url, token });
          await again.request('health');
          again.close();
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      times.push(performance.now() - killed);
    }
  } finally {
    survivor.child.kill('SIGKILL');
    await manager.close();
    await tools.close();
  }
  return times;
}

/** 12 — a request forwarded to the owner node vs the same request on the owner; handover after owner death. */
export const fleetForwarding: Benchmark = {
  id: 12,
  title: 'Fleet: a request forwarded to the owner node vs direct; handover after owner death',
  floor: 'the same `health` request on a client connected to the owner node itself',
  async run() {
    const prefix = `ocmt-bench-fleet-${randomBytes(4).toString('hex')}`;
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-bench-fleet-'));
    try {
      const { target: forwarded, floor: direct } = await forwardedLatency(prefix, dir);
      const taken = await handovers(prefix, dir);
      const addedP50 = percentile(forwarded, 50) - percentile(direct, 50);
      const addedP99 = percentile(forwarded, 99) - percentile(direct, 99);
      return {
        figures: [
          { label: 'direct, p50', value: round(percentile(direct, 50), 3), unit: 'ms' },
          { label: 'direct, p99', value: round(percentile(direct, 99), 3), unit: 'ms' },
          { label: 'forwarded, p50', value: round(percentile(forwarded, 50), 3), unit: 'ms' },
          { label: 'forwarded, p99', value: round(percentile(forwarded, 99), 3), unit: 'ms' },
          { label: 'added p50', value: round(addedP50, 3), unit: 'ms' },
          { label: 'added p99 (goal ≤ 2 ms)', value: round(addedP99, 3), unit: 'ms' },
          { label: 'handover after kill -9 of the owner, median', value: round(percentile(taken, 50), 0), unit: 'ms' },
          { label: 'handover after kill -9 of the owner, worst', value: round(Math.max(...taken), 0), unit: 'ms' },
        ],
        ratio: round(addedP50, 3),
        goal: { op: '<=', value: 0.5 },
        ratioMeaning: 'milliseconds forwarding adds at p50 (forwarded p50 − direct p50)',
        notes: [
          `${REQUESTS} sequential \`health\` requests on each of two open sessions of one tenant, interleaved (alternating order), over loopback: one session on the node that owns the tenant, one through a second node that forwards it over the internal link; both nodes in one process on one Redis. Handover: ${HANDOVERS} times, a \`serve\` process owning a tenant is killed with SIGKILL while a client retries every 20 ms through a surviving \`serve\` process; with the default heartbeat (1 s) and node TTL (3 s), the survivor takes the lease over once the dead node's directory record expires.`,
        ],
      };
    } finally {
      await dropPrefix(prefix);
      await rm(dir, { recursive: true, force: true });
    }
  },
};
