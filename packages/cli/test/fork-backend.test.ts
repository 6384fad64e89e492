import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway, type GatewayRequestError } from '@openclaw-mt/gateway';
import { startFbaBackendStub } from '../../core/test/cloud-support/fba-backend-stub.js';
import { run, serve, tempDir } from './support/cli-process.js';

const LLM_KEY = 'sk-alice-llm-key-0123456789abcdef';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function forkBackend(options: { allowConfigs?: boolean } = {}) {
  const stub = await startFbaBackendStub(options);
  cleanups.push(() => stub.close());
  stub.addUser('alice', {
    config: { model: 'fork-model', tools: { web: true } },
    llmApiKey: LLM_KEY,
    llmApiBaseUrl: 'https://llm.example.com/v1',
  });
  stub.addUser('bob', { config: { model: 'bob-model' } });
  stub.addUser('sam', { status: 'suspended' });
  // Tokens issued before the gateway existed, as the fork issued them.
  return { stub, alice: stub.issueToken('alice'), sam: stub.issueToken('sam') };
}

async function forkConfig(dir: string, stub: { url: string; serviceToken: string }): Promise<string> {
  const path = join(dir, 'config.json');
  await writeFile(
    path,
    JSON.stringify({
      multiTenant: {
        enabled: true,
        cloudBackendUrl: stub.url,
        serviceToken: stub.serviceToken,
        syncIntervalMs: 200,
        dataDir: join(dir, 'data'),
        monitor: { enabled: false },
        cloud: { dialect: 'fba' },
      },
    }),
    { mode: 0o600 },
  );
  return path;
}

const refusal = (attempt: Promise<unknown>) =>
  attempt.then(
    () => 'admitted',
    (error: GatewayRequestError) => error.code,
  );

describe('the original fork’s Cloud Backend, as it is (dialect "fba")', () => {
  test('its existing gw_ tokens connect, its configs arrive, its LLM keys stay secret, its suspended users are refused', async () => {
    const { stub, alice, sam } = await forkBackend();
    const cwd = await tempDir();
    const config = await forkConfig(cwd, stub);
    const server = await serve(['--config', config], { cwd });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    // The token in the verify URL is said out loud at startup.
    expect(server.output()).toContain('WARNING: the "fba" dialect sends each gateway token in the URL');

    const connection = await connectGateway({ url: server.url, token: alice });
    expect(connection.hello.snapshot).toMatchObject({ tenantId: 'alice' });
    const visible = await connection.request('config.get', {});
    expect(visible).toMatchObject({ config: { model: 'fork-model', tools: { web: true } } });
    expect(JSON.stringify(visible)).not.toContain(LLM_KEY);

    // The LLM key lives in the tenant-secrets file (0600), never in the stored config.
    const secretsFile = join(cwd, 'data', 'tenant-secrets.json');
    await waitFor(async () => (await readFile(secretsFile, 'utf8').catch(() => '')).includes(LLM_KEY));
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
    const stored = await run(['config', 'get', 'alice', '--config', config, '--json'], { cwd });
    expect(JSON.parse(stored.stdout)).toMatchObject({ status: 'active', config: { model: 'fork-model' } });
    expect(stored.stdout).not.toContain(LLM_KEY);

    // A config change in the fork reaches the tenant at the next sync.
    stub.setUser('alice', { config: { model: 'changed' } });
    await waitFor(async () => ((await connection.request('config.get', {})) as { config: { model?: string } }).config.model === 'changed');

    // Suspended users: refused at connect; disabling an active user closes her socket within a sync interval.
    expect(await refusal(connectGateway({ url: server.url, token: sam }))).toBe('TOKEN_UNKNOWN');
    stub.setUser('alice', { status: 'disabled' });
    expect(await connection.closed).toMatchObject({ code: 1008 });
    // Her token was verified here before, so the refusal names the suspension (and is lifted with it).
    expect(await refusal(connectGateway({ url: server.url, token: alice }))).toBe('TENANT_SUSPENDED');

    // Re-enabled: admitted again once the next sync lists her (verify alone cannot tell a suspension from a revocation).
    stub.setUser('alice', { status: 'active' });
    await waitFor(
      async () => (await refusal(connectGateway({ url: server.url, token: alice }).then((back) => back.close()))) === 'admitted',
      10_000,
      500,
    );

    const output = server.output();
    for (const secret of [alice, sam, stub.serviceToken, LLM_KEY]) expect(output).not.toContain(secret);
  });

  test('doctor and backend check name the unsafe part and the JWT middleware fix', async () => {
    const { stub, alice } = await forkBackend({ allowConfigs: false });
    const cwd = await tempDir();
    const config = await forkConfig(cwd, stub);
    const doctor = await run(['doctor', '--config', config, '--json'], { cwd });
    const checks = Object.fromEntries(
      (JSON.parse(doctor.stdout).checks as Array<{ id: string; status: string; reason: string }>).map((c) => [c.id, c]),
    );
    expect(checks['backend.dialect']).toMatchObject({ status: 'warn' });
    expect(checks['backend.dialect']!.reason).toContain('in the URL');
    expect(checks.backend).toMatchObject({ status: 'fail' });
    expect(checks.backend!.reason).toContain('TOKEN_REQUEST_PATH_EXCLUDE');
    expect(doctor.code).toBe(5);

    const check = await run(['backend', 'check', stub.url, '--dialect', 'fba', '--service-token', stub.serviceToken, '--token', alice], {
      cwd,
    });
    expect(check.code).toBe(5);
    expect(check.stdout).toContain('FAIL  service-token.accepted');
    expect(check.stdout).toContain('N/A   token-in-url.refused');
    expect(check.stdout).toContain('PASS  verify.valid-token');
    expect(check.stdout + check.stderr).not.toContain(alice);
    expect(check.stdout + check.stderr).not.toContain(stub.serviceToken);

    stub.allowList.add('/api/v1/openclaw/gateway/configs');
    const fixed = await run(['backend', 'check', stub.url, '--config', config, '--service-token', stub.serviceToken, '--token', alice], {
      cwd,
    });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('not supported by this backend');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000, pauseMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
