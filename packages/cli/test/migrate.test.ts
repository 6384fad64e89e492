import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { createRedisAdapter } from '@openclaw-mt/adapter-redis';
import { createTokenService } from '@openclaw-mt/core/tokens';
import { TenantManager } from '@openclaw-mt/core';
import { CLI, run, tempDir } from './support/cli-process.js';
import { dropRedisPrefix, until } from './support/operations.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const PEPPERS = ['pepper-shared-by-both-fleets-0123456789'];
// Enough tenants that the first run is killed well before the end; more only lengthens the suite.
const TENANTS = 400;
const id = (index: number) => `user-${String(index).padStart(4, '0')}`;

async function mapLimit<T>(count: number, limit: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const index = next++;
        out[index] = await work(index);
      }
    }),
  );
  return out;
}

describe('migrate', () => {
  test(`${TENANTS} tenants from fs to Redis, killed mid-run and resumed: every file, config and token verifies; tokens still authenticate`, {
    timeout: 600_000,
  }, async () => {
    const cwd = await tempDir();
    const prefix = `ocmt-migrate-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => dropRedisPrefix(prefix));
    const fromConfig = join(cwd, 'from.json');
    const toConfig = join(cwd, 'to.json');
    await writeFile(fromConfig, JSON.stringify({ multiTenant: { adapter: 'fs', dataDir: join(cwd, 'fs-data'), peppers: PEPPERS } }), {
      mode: 0o600,
    });
    await writeFile(
      toConfig,
      JSON.stringify({
        multiTenant: {
          adapter: 'redis',
          redis: { url: 'redis://127.0.0.1:6379', prefix },
          dataDir: join(cwd, 'redis-node'),
          peppers: PEPPERS,
        },
      }),
      { mode: 0o600 },
    );

    // The source: each tenant with a workspace file, a config and a token; three more with only a token.
    const source = createFsAdapter({ dataDir: join(cwd, 'fs-data') });
    const issuer = createTokenService({ store: source.tokens, peppers: PEPPERS });
    const tokens = await mapLimit(TENANTS, 16, async (index) => {
      const handle = await source.workspaces.open(id(index));
      await handle.write('workspace/memory/notes.md', `notes of ${id(index)}\n`);
      await handle.close();
      await source.configs.set(id(index), { config: { model: `model-${index % 7}`, index } });
      return (await issuer.create(id(index), { label: `device-${index}` })).token;
    });
    const tokenOnly = await mapLimit(3, 3, async (index) => (await issuer.create(`token-only-${index}`)).token);
    await source.close();

    // First run, killed once a good part is checkpointed.
    const checkpoint = join(cwd, 'migration.checkpoint.json');
    const child = spawn(process.execPath, [CLI, 'migrate', '--from', fromConfig, '--to', toConfig, '--checkpoint', checkpoint, '--json'], {
      cwd,
      env: { ...process.env, OPENCLAW_MT_CONFIG: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let childOutput = '';
    child.stdout.on('data', (chunk) => (childOutput += chunk));
    child.stderr.on('data', (chunk) => (childOutput += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    cleanups.push(() => void child.kill('SIGKILL'));
    const doneAtKill = await until(async () => {
      const done = await readFile(checkpoint, 'utf8').then(
        (text) => (JSON.parse(text) as { done: string[] }).done.length,
        () => 0,
      );
      return done >= 100 ? done : undefined;
    }, 300_000);
    child.kill('SIGKILL');
    await exited;
    const interrupted = JSON.parse(await readFile(checkpoint, 'utf8')) as { done: string[] };
    expect(interrupted.done.length, childOutput).toBeLessThan(TENANTS);
    expect(interrupted.done.length).toBeGreaterThanOrEqual(doneAtKill);

    // Resumed: everything moves and verifies; what the first run checkpointed is only verified.
    const resumed = await run(['migrate', '--from', fromConfig, '--to', toConfig, '--checkpoint', checkpoint, '--json'], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout);
    expect(report).toMatchObject({ ok: true, total: TENANTS + 3, failed: [], skipped: 0 });
    expect(report.moved + report.verified).toBe(TENANTS + 3);
    expect(report.verified).toBeGreaterThanOrEqual(interrupted.done.length);
    expect(report.moved).toBeGreaterThan(0);

    // Again, without the checkpoint: nothing moves, everything verifies.
    const again = await run(['migrate', '--from', fromConfig, '--to', toConfig, '--checkpoint', join(cwd, 'fresh.json'), '--json'], {
      cwd,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, moved: 0, verified: TENANTS + 3 });

    // Independently, through the Redis adapter: every file, config and token record is there.
    const redis = createRedisAdapter({ url: 'redis://127.0.0.1:6379', prefix, nodeId: 'checker', localDir: join(cwd, 'checker') });
    cleanups.push(() => redis.close());
    await redis.ready();
    const hashes = createTokenService({ store: redis.tokens, peppers: PEPPERS });
    await mapLimit(TENANTS, 16, async (index) => {
      const tenantId = id(index);
      expect(await redis.configs.get(tenantId)).toMatchObject({
        status: 'active',
        config: { model: `model-${index % 7}`, index },
        version: 1,
      });
      const records = await hashes.list(tenantId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ tenantId, status: 'active', label: `device-${index}` });
      expect(records[0]!.tokenHash).toBe(await hashes.storedHash(tokens[index]!));
      const handle = await redis.workspaces.open(tenantId);
      expect(new TextDecoder().decode(await handle.read('workspace/memory/notes.md'))).toBe(`notes of ${tenantId}\n`);
      await handle.close();
    });

    // Tokens issued before the migration authenticate against the Redis stores (same peppers).
    const manager = new TenantManager({
      tokens: redis.tokens,
      configs: redis.configs,
      workspaces: redis.workspaces,
      peppers: PEPPERS,
      idleTimeoutMs: 0,
    });
    for (const index of [0, 1, 199, TENANTS - 2, TENANTS - 1])
      expect(await manager.authenticate(tokens[index]!)).toMatchObject({ tenantId: id(index) });
    for (const [index, token] of tokenOnly.entries())
      expect(await manager.authenticate(token)).toMatchObject({ tenantId: `token-only-${index}` });
    const lease = await manager.acquire(id(42));
    expect(new TextDecoder().decode(await lease.workspace.read('workspace/memory/notes.md'))).toBe(`notes of ${id(42)}\n`);
    lease.release();
    await manager.evictIdle();

    // The run is in the target's audit log.
    const audit = JSON.parse((await run(['audit', '--json', '--config', toConfig], { cwd })).stdout).entries;
    expect(audit[0]).toMatchObject({ action: 'tenants.migrate', result: 'ok', details: { moved: 0, verified: TENANTS + 3, failed: 0 } });
  });

  test('bad usage: the same stores on both sides, or a checkpoint from another migration, are refused', async () => {
    const cwd = await tempDir();
    const a = join(cwd, 'a.json');
    const b = join(cwd, 'b.json');
    await writeFile(a, JSON.stringify({ multiTenant: { dataDir: join(cwd, 'a') } }));
    await writeFile(b, JSON.stringify({ multiTenant: { dataDir: join(cwd, 'b') } }));
    await run(['tokens', 'create', 'alice', '--config', a], { cwd });
    const same = await run(['migrate', '--from', a, '--to', a], { cwd });
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('same stores');
    const checkpoint = join(cwd, 'cp.json');
    expect((await run(['migrate', '--from', a, '--to', b, '--checkpoint', checkpoint], { cwd })).code).toBe(0);
    const other = await run(['migrate', '--from', b, '--to', a, '--checkpoint', checkpoint], { cwd });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('another migration');
    const human = await run(['migrate', '--from', a, '--to', b, '--checkpoint', checkpoint], { cwd });
    expect(human.stdout).toContain('Migrated 1 tenants: 0 moved, 1 already there');
  });
});
