import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startRedisServer, type RedisServer } from '../../adapter-redis/test/support/redis-servers.js';
import { run, tempDir } from './support/cli-process.js';

const servers: RedisServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop('SIGKILL');
});

async function doctorOn(args: { appendOnly?: boolean; args?: string[] }) {
  const server = await startRedisServer(args);
  servers.push(server);
  const cwd = await tempDir();
  const config = join(cwd, 'config.json');
  await writeFile(
    config,
    JSON.stringify({ multiTenant: { adapter: 'redis', redis: { url: server.url, prefix: 'doctor-redis' }, dataDir: join(cwd, 'data') } }),
  );
  const result = await run(['doctor', '--json', '--config', config], { cwd });
  const report = JSON.parse(result.stdout) as { checks: Array<{ id: string; status: string; reason: string }> };
  return Object.fromEntries(report.checks.map((check) => [check.id, check]));
}

describe('doctor reads the Redis durability settings', () => {
  test('AOF fsynced every write passes', async () => {
    const checks = await doctorOn({ appendOnly: true });
    expect(checks['redis.persistence']).toMatchObject({ status: 'pass', reason: 'AOF on, appendfsync always' });
    expect(checks['redis.cluster']).toBeUndefined();
  });

  test('RDB snapshots only: a warning that says what to set', async () => {
    const checks = await doctorOn({ args: ['--save', '60 1'] });
    expect(checks['redis.persistence']?.status).toBe('warn');
    expect(checks['redis.persistence']?.reason).toMatch(/RDB snapshots only.*appendonly yes and appendfsync everysec/);
  });

  test('AOF left to the OS (appendfsync no) is a warning', async () => {
    const checks = await doctorOn({ args: ['--appendonly', 'yes', '--appendfsync', 'no'] });
    expect(checks['redis.persistence']).toMatchObject({ status: 'warn' });
    expect(checks['redis.persistence']?.reason).toMatch(/appendfsync everysec/);
  });

  test('a Cluster node requiring full coverage is a warning naming the setting; with it off, none', async () => {
    const strict = await doctorOn({ appendOnly: true, args: ['--cluster-enabled', 'yes', '--cluster-require-full-coverage', 'yes'] });
    expect(strict['redis.cluster']?.status).toBe('warn');
    expect(strict['redis.cluster']?.reason).toMatch(/set cluster-require-full-coverage no/);
    const relaxed = await doctorOn({ appendOnly: true, args: ['--cluster-enabled', 'yes', '--cluster-require-full-coverage', 'no'] });
    expect(relaxed['redis.cluster']).toBeUndefined();
  });
});
