import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway, type GatewayRequestError } from '@openclaw-mt/gateway';
import { SECRETS, startBackend } from '../../../examples/cloud-backend/test/helpers.js';
import { run, serve, tempDir } from './support/cli-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backendWithUser() {
  const backend = await startBackend();
  cleanups.push(() => backend.close());
  const user = await backend.api.register(`u${Date.now()}@example.com`);
  const { token } = await backend.api.issueToken(user.session);
  return { backend, user, token };
}

describe('the CLI with a Cloud Backend', () => {
  test('backend check passes against the reference backend (exit 0) and fails with a wrong service token (exit 5)', async () => {
    const { backend, token } = await backendWithUser();
    const cwd = await tempDir();
    const good = await run(['backend', 'check', backend.url, '--service-token', SECRETS.serviceToken, '--token', token, '--json'], { cwd });
    expect(good.code).toBe(0);
    const report = JSON.parse(good.stdout);
    expect(report).toMatchObject({ ok: true, summary: { failed: 0 } });
    expect(good.stdout + good.stderr).not.toContain(token);
    const bad = await run(['backend', 'check', backend.url, '--service-token', 'wrong-service-token-000000'], { cwd });
    expect(bad.code).toBe(5);
    expect(bad.stdout).toContain('FAIL');
  });

  test('serve with the seed’s config: tokens verify against the backend; a suspension closes the socket and denies new connects', async () => {
    const { backend, user, token } = await backendWithUser();
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        multiTenant: {
          enabled: true,
          cloudBackendUrl: backend.url,
          serviceToken: SECRETS.serviceToken,
          syncIntervalMs: 200,
          dataDir: join(cwd, 'data'),
        },
      }),
    );
    const server = await serve(['--config', config], { cwd });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    expect(server.output()).toContain('Cloud Backend');
    const connection = await connectGateway({ url: server.url, token });
    expect(connection.hello.snapshot).toMatchObject({ tenantId: user.userId });
    expect(await connection.request('chat.send', { message: 'hi' })).toMatchObject({ reply: 'You said: hi' });
    expect((await backend.api.admin('suspend', user.userId)).status).toBe(200);
    expect((await connection.closed).code).toBe(1008);
    const denied = await connectGateway({ url: server.url, token }).catch((error: GatewayRequestError) => error);
    expect((denied as GatewayRequestError).code).toBe('TENANT_SUSPENDED');
    // Tokens are the backend's to manage: the CLI refuses to issue them locally.
    const refused = await run(['tokens', 'create', 'someone', '--config', config], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('NOT_SUPPORTED');
  });
});
