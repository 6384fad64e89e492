import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createToken } from '@openclaw-mt/core/tokens';
import { connectGateway, type GatewayRequestError } from '@openclaw-mt/gateway';
import { SECRETS, startBackend } from '../../../examples/cloud-backend/test/helpers.js';
import { serve, tempDir } from './support/cli-process.js';

const PUSH_SECRET = 'push-secret-for-cli-tests-0123456789abcdef';
const PEPPER = 'pepper-for-cli-tests-0123456789';
// Long enough that only a push can explain a change reaching a node during a test.
const NO_SYNC_MS = 10 * 60_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function nodeConfig(dir: string, backendUrl: string, extra: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, 'config.json');
  await writeFile(
    path,
    JSON.stringify({
      multiTenant: {
        enabled: true,
        cloudBackendUrl: backendUrl,
        serviceToken: SECRETS.serviceToken,
        syncIntervalMs: NO_SYNC_MS,
        peppers: [PEPPER],
        dataDir: join(dir, 'data'),
        monitor: { enabled: false },
        ...extra,
      },
    }),
    { mode: 0o600 },
  );
  return path;
}

async function startNode(backendUrl: string, extra: Record<string, unknown> = {}) {
  const cwd = await tempDir();
  const config = await nodeConfig(cwd, backendUrl, extra);
  const node = await serve(['--config', config], { cwd });
  cleanups.push(() => void node.child.kill('SIGKILL'));
  return { ...node, cwd, config, pushUrl: `${node.url.replace(/^ws/, 'http')}/v1/cloud-events` };
}

const refusal = (attempt: Promise<unknown>) =>
  attempt.then(
    () => 'admitted',
    (error: GatewayRequestError) => error.code,
  );

describe('revocations reach open sockets: pushes on a two-node fleet', () => {
  test('revoking a token or suspending a user in the backend closes the open socket on either node and refuses new connects', async () => {
    const backend = await startBackend({ push: { secrets: [PUSH_SECRET] } });
    cleanups.push(() => backend.close());
    const push = { cloud: { push: { secrets: [PUSH_SECRET] } } };
    const [one, two] = [await startNode(backend.url, push), await startNode(backend.url, push)];
    backend.backend.push!.setTargets([one.pushUrl, two.pushUrl]);
    expect(one.output()).toContain('push:');

    const alice = await backend.api.register('alice@example.com');
    const laptop = await backend.api.issueToken(alice.session, { label: 'laptop' });
    const phone = await backend.api.issueToken(alice.session, { label: 'phone' });
    const onOne = await connectGateway({ url: one.url, token: laptop.token });
    const onTwo = await connectGateway({ url: two.url, token: phone.token });
    expect(await onOne.request('chat.send', { message: 'hi' })).toMatchObject({ reply: 'You said: hi' });

    // Revoked in the backend: node one closes the laptop's socket; neither node admits the token again,
    // although both verified it moments ago (no positive cache outlives a revocation the gateway has seen).
    expect((await backend.api.revokeToken(alice.session, laptop.tokenId)).status).toBe(204);
    expect(await onOne.closed).toMatchObject({ code: 1008 });
    expect(await refusal(connectGateway({ url: one.url, token: laptop.token }))).toBe('TOKEN_UNKNOWN');
    expect(await refusal(connectGateway({ url: two.url, token: laptop.token }))).toBe('TOKEN_UNKNOWN');

    // Suspended in the backend: node two closes the phone's socket; both refuse the user.
    expect(await onTwo.request('chat.send', { message: 'still here' })).toMatchObject({ reply: 'You said: still here' });
    expect((await backend.api.admin('suspend', alice.userId)).status).toBe(200);
    expect(await onTwo.closed).toMatchObject({ code: 1008 });
    expect(await refusal(connectGateway({ url: one.url, token: phone.token }))).toBe('TENANT_SUSPENDED');
    expect(await refusal(connectGateway({ url: two.url, token: phone.token }))).toBe('TENANT_SUSPENDED');

    // Resumed: the first connect after it is admitted, on either node.
    expect((await backend.api.admin('resume', alice.userId)).status).toBe(200);
    await backend.backend.push!.idle();
    const back = await connectGateway({ url: two.url, token: phone.token });
    expect(back.hello.snapshot).toMatchObject({ tenantId: alice.userId });
    back.close();

    for (const output of [one.output(), two.output()]) {
      for (const secret of [laptop.token, phone.token, SECRETS.serviceToken, PUSH_SECRET, PEPPER]) expect(output).not.toContain(secret);
    }
  });

  test('a push with a wrong signature is refused and changes nothing', async () => {
    const backend = await startBackend({ push: { secrets: ['another-secret-that-the-gateway-does-not-know'] } });
    cleanups.push(() => backend.close());
    const node = await startNode(backend.url, { cloud: { push: { secrets: [PUSH_SECRET] } } });
    backend.backend.push!.setTargets([node.pushUrl]);
    const alice = await backend.api.register('alice@example.com');
    const { token } = await backend.api.issueToken(alice.session);
    const connection = await connectGateway({ url: node.url, token });
    await backend.api.admin('suspend', alice.userId);
    await backend.backend.push!.idle();
    // Still open: the forged push was refused (401), and the sync interval is far away.
    expect(await connection.request('chat.send', { message: 'hi' })).toMatchObject({ reply: 'You said: hi' });
    expect(backend.log.lines.some((line) => line.includes('refused with 401'))).toBe(true);
    connection.close();
  });
});

describe('the outage grace survives a restart', () => {
  test('restarted during a backend outage, the gateway admits a user verified within the grace and refuses one it never verified', async () => {
    const backend = await startBackend();
    const alice = await backend.api.register('alice@example.com');
    const bob = await backend.api.register('bob@example.com');
    const aliceToken = (await backend.api.issueToken(alice.session)).token;
    const bobToken = (await backend.api.issueToken(bob.session)).token;
    const node = await startNode(backend.url);
    const first = await connectGateway({ url: node.url, token: aliceToken });
    first.close();
    await first.closed;

    // The backend goes away, then the gateway restarts.
    await backend.close();
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    const restarted = await serve(['--config', node.config], { cwd: node.cwd });
    cleanups.push(() => void restarted.child.kill('SIGKILL'));

    const again = await connectGateway({ url: restarted.url, token: aliceToken });
    expect(again.hello.snapshot).toMatchObject({ tenantId: alice.userId });
    expect(await again.request('chat.send', { message: 'offline?' })).toMatchObject({ reply: 'You said: offline?' });
    again.close();
    expect(await refusal(connectGateway({ url: restarted.url, token: bobToken }))).toBe('BACKEND_UNAVAILABLE');
    expect(await refusal(connectGateway({ url: restarted.url, token: createToken() }))).toBe('BACKEND_UNAVAILABLE');
    expect(restarted.output()).toContain('Cloud Backend token verification failed');
  });
});
