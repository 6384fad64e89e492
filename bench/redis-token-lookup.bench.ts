import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisAdapter } from '@openclaw-mt/adapter-redis';
import { createToken, createTokenHasher } from '@openclaw-mt/core/tokens';
import { type Benchmark, round } from './harness.js';

const REDIS_URL = process.env.OPENCLAW_MT_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const CONCURRENCY = 50;
const TOKENS = 1_000;
const DURATION_MS = 3_000;

function redisBenchmarkRate(url: URL, requests: number): number {
  const output = execFileSync(
    'redis-benchmark',
    ['-h', url.hostname, '-p', url.port || '6379', '-t', 'get', '-c', String(CONCURRENCY), '-n', String(requests), '-q'],
    {
      encoding: 'utf8',
    },
  );
  const match = /GET: ([\d.]+) requests per second/.exec(output);
  if (match === null) throw new Error(`could not read redis-benchmark output: ${output}`);
  return Number(match[1]);
}

/** 4 — token lookups through adapter-redis, 50 at a time, vs redis-benchmark GET with 50 clients. */
export const redisTokenLookup: Benchmark = {
  id: 4,
  title: 'Token lookups through adapter-redis at concurrency 50',
  floor: '`redis-benchmark -t get -c 50` on the same server',
  async run() {
    const prefix = `ocmt-bench-${randomBytes(4).toString('hex')}`;
    const adapter = createRedisAdapter({ url: REDIS_URL, prefix, nodeId: 'bench', localDir: join(tmpdir(), prefix) });
    await adapter.ready();
    const hasher = createTokenHasher();
    const hashes: string[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const tokenHash = hasher.hash(createToken());
      await adapter.tokens.create({ tokenHash, tenantId: `tenant-${i % 100}`, status: 'active', createdAt: Date.now() });
      hashes.push(tokenHash);
    }
    const measure = async (lookup: (i: number) => Promise<unknown>) => {
      let done = 0;
      const deadline = performance.now() + DURATION_MS;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, worker) => {
          for (let i = worker; performance.now() < deadline; i += CONCURRENCY) {
            await lookup(i);
            done++;
          }
        }),
      );
      return (done * 1000) / (performance.now() - started);
    };
    const ourLookup = async (i: number) => {
      if ((await adapter.tokens.get(hashes[i % TOKENS]!)) === undefined) throw new Error('token missing');
    };
    // The same HGETALLs sent raw through the adapter's own node-redis client: the Node.js client's ceiling.
    const rawLookup = (i: number) =>
      adapter.connection.send(`${prefix}:tok:{${hashes[i % TOKENS]}}`, ['HGETALL', `${prefix}:tok:{${hashes[i % TOKENS]}}`]);
    await measure(ourLookup);
    const url = new URL(REDIS_URL);
    const rates: Array<[number, number, number]> = [];
    for (let round = 0; round < 3; round++)
      rates.push([await measure(ourLookup), await measure(rawLookup), redisBenchmarkRate(url, 200_000)]);
    const median = (index: 0 | 1 | 2) => rates.map((row) => row[index]).sort((a, b) => a - b)[1]!;
    const ours = median(0);
    const raw = median(1);
    const floor = median(2);
    for await (const key of adapter.connection.scan(`${prefix}:*`)) await adapter.connection.send(key, ['DEL', key]);
    await adapter.close();
    return {
      figures: [
        { label: 'redis-benchmark GET, 50 clients', value: round(floor, 0), unit: 'ops/s' },
        { label: 'raw HGETALL through node-redis, 50 in flight (the client ceiling)', value: round(raw, 0), unit: 'ops/s' },
        { label: 'tokens.get through adapter-redis, 50 in flight', value: round(ours, 0), unit: 'ops/s' },
      ],
      ratio: round(ours / floor),
      goal: { op: '>=', value: 0.5 },
      ratioMeaning: "our lookup rate / redis-benchmark's GET rate (medians of 3 interleaved rounds)",
      notes: [
        `Both run against the same server. redis-benchmark is a C client with 50 connections; the adapter is one Node.js`,
        `process on one pipelined connection. The same commands sent raw through node-redis reach ${round(raw / floor)}× of`,
        `redis-benchmark, and the adapter reaches ${round(ours / raw)}× of that raw rate (it also validates every hash and`,
        'parses every record). So the ratio mostly follows how fast the Node.js client and redis-benchmark each are on the',
        'machine: on 2 shared cores with redis-server beside them, redis-benchmark has been seen from ~40,000 to ~90,000 GET/s.',
      ],
    };
  },
};
