import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { AuditEntry } from '@openclaw-mt/core';
import { connectGateway } from '@openclaw-mt/gateway';
import { SECRETS, startBackend } from '../../../examples/cloud-backend/test/helpers.js';
import { run, serve, tempDir } from './support/cli-process.js';
import { adminFetch, metric } from './support/operations.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Cloud Backend stand-in that fails every request with 500. */
async function failingBackend(): Promise<string> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(500, { 'content-type': 'application/json' });
    response.end('{"error":"database on fire"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('stats', () => {
  test('stats --json reports the same numbers as /metrics', async () => {
    const cwd = await tempDir();
    const server = await serve([], { cwd });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    const dataDir = join(cwd, '.openclaw-mt');
    for (const user of ['alice', 'bob']) {
      const { token } = JSON.parse((await run(['tokens', 'create', user, '--json'], { cwd })).stdout);
      const connection = await connectGateway({ url: server.url, token });
      cleanups.push(() => connection.close());
      await connection.request('chat.send', { message: 'hi' });
      if (user === 'bob') {
        connection.close();
        await connection.closed;
      }
    }
    await run(['users', 'evict', 'bob', '--admin-url', server.adminUrl!], { cwd });
    await connectGateway({ url: server.url, token: 'gt_0000000000000000000000000000000000000' }).catch(() => undefined);

    const metrics = (await adminFetch(server.adminUrl!, dataDir, '/metrics')).text;
    const result = await run(['stats', '--json', '--admin-url', server.adminUrl!], { cwd });
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout);
    expect(stats).toMatchObject({ resident: 1, pinned: 1, connections: 1, activations: 2 });
    expect(metric(metrics, 'openclaw_mt_tenants', { state: 'resident' })).toBe(stats.resident);
    expect(metric(metrics, 'openclaw_mt_tenants', { state: 'pinned' })).toBe(stats.pinned);
    expect(metric(metrics, 'openclaw_mt_tenants', { state: 'activating' })).toBe(stats.activating);
    expect(metric(metrics, 'openclaw_mt_tenant_capacity')).toBe(stats.capacity);
    expect(metric(metrics, 'openclaw_mt_admission_queue')).toBe(stats.queued);
    expect(metric(metrics, 'openclaw_mt_connections')).toBe(stats.connections);
    expect(metric(metrics, 'openclaw_mt_activations_total', { result: 'ok' })).toBe(stats.activations);
    expect(metric(metrics, 'openclaw_mt_activations_total', { result: 'failed' })).toBe(stats.activationFailures);
    for (const [reason, count] of Object.entries(stats.evictions))
      expect(metric(metrics, 'openclaw_mt_evictions_total', { reason }) ?? 0, reason).toBe(count);
    expect(stats.evictions.manual).toBe(1);
    expect(metric(metrics, 'openclaw_mt_auth_total', { result: 'cache_miss' })).toBe(stats.auth.misses);

    const human = await run(['stats', '--admin-url', server.adminUrl!], { cwd });
    expect(human.stdout).toContain('1 resident of 100');
    // The host's memory is shown; the workspace runtime runs no process per tenant, so there is no cells line.
    expect(stats.host.totalBytes).toBeGreaterThan(0);
    expect(human.stdout).toMatch(/^host: +\d+(\.\d+)? (MiB|GiB) memory available of \d+(\.\d+)? (MiB|GiB)$/m);
    expect(human.stdout).not.toContain('cells:');
  });

  test('stats without a gateway exits 4 with the reason', async () => {
    const cwd = await tempDir();
    const result = await run(['stats', '--admin-url', 'http://127.0.0.1:1'], { cwd, env: { OPENCLAW_MT_ADMIN_TOKEN: 'x'.repeat(32) } });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('not reachable');
  });
});

describe('config', () => {
  test('config set and get through the stores; --if-version guards against stale writes; bad input changes nothing', async () => {
    const cwd = await tempDir();
    expect((await run(['config', 'get', 'alice'], { cwd })).code).toBe(3);
    const first = await run(['config', 'set', 'alice', '{"model":"a","tools":{"web":true}}', '--if-version', '0', '--json'], { cwd });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ tenantId: 'alice', version: 1, config: { model: 'a', tools: { web: true } } });
    await writeFile(join(cwd, 'alice.json'), '{"model":"b"}');
    expect((await run(['config', 'set', 'alice', `@${join(cwd, 'alice.json')}`, '--if-version', '1'], { cwd })).code).toBe(0);
    const stale = await run(['config', 'set', 'alice', '{"model":"c"}', '--if-version', '1'], { cwd });
    expect(stale.code).toBe(4);
    expect(stale.stderr).toContain('CONFLICT');
    for (const bad of ['{"model":', '[1,2]', '"text"']) {
      const refused = await run(['config', 'set', 'alice', bad], { cwd });
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr).toContain('CONFIG_INVALID');
    }
    expect((await run(['config', 'set', 'alice', '@/nonexistent.json'], { cwd })).code).toBe(3);
    const got = await run(['config', 'get', 'alice', '--json'], { cwd });
    expect(JSON.parse(got.stdout)).toMatchObject({ version: 2, status: 'active', config: { model: 'b' } });
    const audit = JSON.parse((await run(['audit', '--json', '--tenant', 'alice'], { cwd })).stdout).entries;
    expect(audit.map((entry: AuditEntry) => `${entry.action}:${entry.result}`)).toEqual([
      'config.set:error',
      'config.set:ok',
      'config.set:ok',
    ]);
  });

  test('config sync: a failing Cloud Backend makes it exit 4 with the reason, never success', async () => {
    const url = await failingBackend();
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        multiTenant: { cloudBackendUrl: url, serviceToken: SECRETS.serviceToken, syncIntervalMs: 3_600_000, dataDir: join(cwd, 'data') },
      }),
      { mode: 0o600 },
    );
    const server = await serve(['--config', config], { cwd });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    const human = await run(['config', 'sync', '--config', config, '--admin-url', server.adminUrl!], { cwd });
    expect(human.code).toBe(4);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain('config sync failed');
    expect(human.stderr).toMatch(/BACKEND_UNAVAILABLE: .*500/);
    const json = await run(['config', 'sync', '--json', '--config', config, '--admin-url', server.adminUrl!], { cwd });
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'BACKEND_UNAVAILABLE' } });
    expect(JSON.parse(json.stderr).error.code).toBe('BACKEND_UNAVAILABLE');
  });

  test('config sync succeeds against a working backend and is refused without one', async () => {
    const backend = await startBackend();
    cleanups.push(() => backend.close());
    const user = await backend.api.register(`u${Date.now()}@example.com`);
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        multiTenant: {
          cloudBackendUrl: backend.url,
          serviceToken: SECRETS.serviceToken,
          syncIntervalMs: 3_600_000,
          dataDir: join(cwd, 'data'),
        },
      }),
      { mode: 0o600 },
    );
    const server = await serve(['--config', config], { cwd });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    const synced = await run(['config', 'sync', '--json', '--config', config, '--admin-url', server.adminUrl!], { cwd });
    expect(synced.code).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({ ok: true });
    const got = await run(['config', 'get', user.userId, '--json', '--config', config], { cwd });
    expect(JSON.parse(got.stdout)).toMatchObject({ tenantId: user.userId, status: 'active' });

    const plainDir = await tempDir();
    const plain = await serve([], { cwd: plainDir });
    cleanups.push(() => void plain.child.kill('SIGKILL'));
    const refused = await run(['config', 'sync', '--admin-url', plain.adminUrl!], { cwd: plainDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('NOT_SUPPORTED');
  });
});
