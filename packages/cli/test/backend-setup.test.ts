import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createToken } from '@openclaw-mt/core/tokens';
import { connectGateway } from '@openclaw-mt/gateway';
import { run, serve, tempDir } from './support/cli-process.js';
import { adminFetch } from './support/operations.js';

const SERVICE_TOKEN = 'svc-echoed-0123456789abcdefghij';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function writeConfig(dir: string, block: Record<string, unknown>): Promise<string> {
  const path = join(dir, 'config.json');
  await writeFile(
    path,
    JSON.stringify({ multiTenant: { enabled: true, dataDir: join(dir, 'data'), monitor: { enabled: false }, ...block } }),
    {
      mode: 0o600,
    },
  );
  return path;
}

/** A backend that fails every request and echoes the bearer it got in its error, as careless backends do. */
async function echoingBackend(): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: `bad request with ${request.headers.authorization ?? 'no auth'} ${SERVICE_TOKEN}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the Cloud Backend setup, checked before it bites', () => {
  test('serve refuses a backend timeout that would outlast the handshake; doctor fails it and warns about plain http to another host', async () => {
    const cwd = await tempDir();
    const config = await writeConfig(cwd, {
      cloudBackendUrl: 'http://backend.invalid',
      serviceToken: SERVICE_TOKEN,
      cloud: { timeoutMs: 9_500 },
      gateway: { handshakeTimeoutMs: 10_000 },
    });
    const refused = await run(['serve', '--port', '0', '--admin-port', '0', '--config', config], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('CONFIG_INVALID');
    expect(refused.stderr).toContain('multiTenant.cloud.timeoutMs (9500 ms)');
    expect(refused.stderr).toContain('multiTenant.gateway.handshakeTimeoutMs (10000 ms)');

    const doctor = await run(['doctor', '--config', config, '--json'], { cwd });
    const checks = Object.fromEntries(
      (JSON.parse(doctor.stdout).checks as Array<{ id: string; status: string; reason: string }>).map((c) => [c.id, c]),
    );
    expect(checks['backend.timeouts']).toMatchObject({ status: 'fail' });
    expect(checks['backend.transport']).toMatchObject({ status: 'warn', reason: expect.stringContaining('plain http://') });
    expect(doctor.code).toBe(5);
    expect(doctor.stdout).not.toContain(SERVICE_TOKEN);
  });

  test('a backend echoing the service token: serve, config sync, stats and the admin endpoint never show it; verify failures are logged and alerted', async () => {
    const cwd = await tempDir();
    const config = await writeConfig(cwd, {
      cloudBackendUrl: await echoingBackend(),
      serviceToken: SERVICE_TOKEN,
      syncIntervalMs: 600_000,
      monitor: { enabled: true, intervalMs: 200 },
    });
    const server = await serve(['--config', config], { cwd, env: { CONSOLA_LEVEL: '3' } });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    const refused = await connectGateway({ url: server.url, token: createToken() }).catch((error: { code: string }) => error.code);
    expect(refused).toBe('BACKEND_UNAVAILABLE');

    const sync = await run(['config', 'sync', '--config', config, '--admin-url', server.adminUrl!], { cwd });
    expect(sync.code).toBe(4);
    expect(sync.stderr).toContain('config sync failed');
    const stats = await run(['stats', '--json', '--config', config, '--admin-url', server.adminUrl!], { cwd });
    expect(stats.code).toBe(0);
    const dataDir = join(cwd, 'data');
    const raw = [
      (await adminFetch(server.adminUrl!, dataDir, '/v1/stats')).text,
      (await adminFetch(server.adminUrl!, dataDir, '/v1/sync', { method: 'POST' })).text,
    ];
    await waitFor(async () => (await adminFetch(server.adminUrl!, dataDir, '/v1/alerts')).text.includes('"backend"'));
    for (const shown of [sync.stdout, sync.stderr, stats.stdout, stats.stderr, ...raw, server.output()])
      expect(shown).not.toContain(SERVICE_TOKEN);
    expect(server.output()).toContain('Cloud Backend token verification failed');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
