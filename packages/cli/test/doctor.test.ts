import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CLI, run, tempDir } from './support/cli-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A port held by something that is not a gateway. */
async function occupiedPort(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.end('not http\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function doctor(cwd: string, config: string) {
  const result = await run(['doctor', '--json', '--config', config], { cwd });
  const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ id: string; status: string; reason: string }> };
  const byId = Object.fromEntries(report.checks.map((check) => [check.id, check]));
  return { code: result.code, report, byId };
}

describe('doctor', () => {
  test('a bad key in any section fails the config check, and one run names every bad key with its path', async () => {
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        multiTenant: {
          dataDir: join(cwd, 'data'),
          maxCachedUsers: 0,
          typo: true,
          gateway: { port: 'x', bogus: 1, openclaw: { nope: 1 } },
          admin: { port: -1 },
        },
      }),
    );
    const { code, byId } = await doctor(cwd, config);
    expect(code).toBe(5);
    expect(byId.config).toMatchObject({ status: 'fail' });
    for (const key of [
      'multiTenant.maxCachedUsers',
      'multiTenant.typo',
      'multiTenant.gateway.port',
      'multiTenant.gateway.bogus',
      'multiTenant.gateway.openclaw.nope',
      'multiTenant.admin.port',
    ]) {
      expect(byId.config?.reason).toContain(`${key}:`);
    }

    // A config whose only bad key is in the gateway section is not called valid.
    await writeFile(config, JSON.stringify({ multiTenant: { dataDir: join(cwd, 'data'), gateway: { trustProxy: 'yes' } } }));
    const gatewayOnly = await doctor(cwd, config);
    expect(gatewayOnly.code).toBe(5);
    expect(gatewayOnly.byId.config).toMatchObject({ status: 'fail', reason: expect.stringContaining('multiTenant.gateway.trustProxy') });
  });

  test('a healthy setup passes (exit 0): config, private roots, free ports; ports held by a running gateway fail', async () => {
    const cwd = await tempDir();
    const [port, adminPort] = [await freePort(), await freePort()];
    const config = join(cwd, 'config.json');
    await writeFile(config, JSON.stringify({ multiTenant: { dataDir: join(cwd, 'data'), gateway: { port }, admin: { port: adminPort } } }));
    await run(['tokens', 'create', 'alice', '--config', config], { cwd });
    const fresh = await doctor(cwd, config);
    expect(fresh.code).toBe(0);
    expect(fresh.byId.config).toMatchObject({ status: 'pass' });
    expect(fresh.byId['config.permissions']).toMatchObject({ status: 'pass' });
    expect(fresh.byId['roots.dataDir']).toMatchObject({ status: 'pass' });
    expect(fresh.byId['ports.gateway']).toMatchObject({ status: 'pass', reason: expect.stringContaining('free') });

    // A running gateway holds the ports: `serve` could not bind them, so they fail, saying who holds them.
    const running = await serveOn(cwd, config);
    const busy = await doctor(cwd, config);
    expect(busy.code).toBe(5);
    expect(busy.byId['ports.gateway']).toMatchObject({ status: 'fail', reason: expect.stringContaining('running gateway') });
    expect(busy.byId['ports.admin']).toMatchObject({ status: 'fail', reason: expect.stringContaining('running gateway') });
    running.child.kill('SIGKILL');
  });

  test('each problem fails with a reason and exit 5: secrets in a readable file, open roots, a port taken by another process, Redis and backend down', async () => {
    const cwd = await tempDir();
    const dataDir = join(cwd, 'data');
    await mkdir(join(dataDir, 'workspaces'), { recursive: true, mode: 0o755 });
    await chmod(dataDir, 0o755);
    const config = join(cwd, 'config.json');
    const taken = await occupiedPort();
    await writeFile(
      config,
      JSON.stringify({
        multiTenant: {
          dataDir,
          serviceToken: 'svc-token-0123456789abcdef',
          cloudBackendUrl: `http://127.0.0.1:${await freePort()}`,
          gateway: { port: taken },
          admin: { port: 0 },
        },
      }),
    );
    await chmod(config, 0o644);
    const { code, report, byId } = await doctor(cwd, config);
    expect(code).toBe(5);
    expect(report.ok).toBe(false);
    expect(byId['config.permissions']).toMatchObject({ status: 'fail', reason: expect.stringContaining('serviceToken') });
    expect(byId['config.permissions']!.reason).not.toContain('svc-token-0123456789abcdef');
    expect(byId['roots.dataDir']).toMatchObject({ status: 'fail', reason: expect.stringContaining('0755') });
    expect(byId['roots.workspaceRoot']).toMatchObject({ status: 'fail' });
    expect(byId['roots.configRoot']).toMatchObject({ status: 'warn' });
    expect(byId['ports.gateway']).toMatchObject({ status: 'fail', reason: expect.stringContaining('another process') });
    expect(byId.backend).toMatchObject({ status: 'fail' });
    expect(byId['ports.admin']).toBeUndefined();

    const redisConfig = join(cwd, 'redis.json');
    await writeFile(
      redisConfig,
      JSON.stringify({
        multiTenant: {
          adapter: 'redis',
          redis: { url: `redis://:hunter2@127.0.0.1:${await freePort()}` },
          dataDir: join(cwd, 'r'),
          gateway: { port: 0 },
          admin: { port: 0 },
        },
      }),
      { mode: 0o600 },
    );
    const redis = await doctor(cwd, redisConfig);
    expect(redis.code).toBe(5);
    expect(redis.byId.redis).toMatchObject({ status: 'fail', reason: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify(redis.report)).not.toContain('hunter2');
    const human = await run(['doctor', '--config', config], { cwd });
    expect(human.code).toBe(5);
    expect(human.stdout).toMatch(/FAIL {2}ports\.gateway/);
  });

  test('a reachable Redis passes; an invalid config is one failing check', async () => {
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ multiTenant: { adapter: 'redis', dataDir: join(cwd, 'data'), gateway: { port: 0 }, admin: { port: 0 } } }),
    );
    const ok = await doctor(cwd, config);
    expect(ok.byId.redis).toMatchObject({ status: 'pass', reason: expect.stringContaining('PING') });
    await writeFile(config, JSON.stringify({ multiTenant: { adaptor: 'fs' } }));
    const invalid = await doctor(cwd, config);
    expect(invalid.code).toBe(5);
    expect(invalid.report.checks).toEqual([
      expect.objectContaining({ id: 'config', status: 'fail', reason: expect.stringContaining('CONFIG_INVALID') }),
    ]);
  });
});

/** `serve` on the ports the config names (not the free ones the harness picks). */
async function serveOn(cwd: string, config: string) {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', config], {
    cwd,
    env: { ...process.env, OPENCLAW_MT_CONFIG: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/admin:\s+\S+/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  return { child };
}

describe('doctor: OpenClaw cells', () => {
  test('reports the sandbox and the model gateway; a provider key variable that is unset fails', async () => {
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    const settings = (openclaw: Record<string, unknown>) =>
      JSON.stringify({
        multiTenant: { dataDir: join(cwd, 'data'), gateway: { port: 0, runtime: 'openclaw', openclaw }, admin: { port: 0 } },
      });
    const models = {
      providers: { openai: { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OCMT_DOCTOR_UNSET_KEY' } },
    };
    await writeFile(config, settings({ models }), { mode: 0o600 });
    const missing = await doctor(cwd, config);
    expect(missing.byId['cells.models']).toMatchObject({ status: 'fail', reason: expect.stringContaining('OCMT_DOCTOR_UNSET_KEY') });
    expect(missing.byId['cells.sandbox']?.status).toMatch(/^(pass|fail)$/);
    if (process.getuid?.() === 0)
      expect(missing.byId['cells.sandbox']).toMatchObject({ status: 'pass', reason: expect.stringContaining('egress none') });
    expect(missing.code).toBe(5);

    await writeFile(config, settings({ sandbox: false }), { mode: 0o600 });
    const optedOut = await doctor(cwd, config);
    expect(optedOut.byId['cells.sandbox']).toMatchObject({ status: 'warn', reason: expect.stringContaining('sandbox: false') });
    expect(optedOut.byId['cells.models']).toMatchObject({ status: 'warn', reason: expect.stringContaining('no model gateway') });
  });
});
