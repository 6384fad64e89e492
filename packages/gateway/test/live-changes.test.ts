import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway, GatewayRequestError } from '@openclaw-mt/gateway';
import { startGateway } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayRequestError) return error.code;
    throw error;
  }
  return 'ok';
}

/** Waits until `check` holds (config changes arrive through the store's watch). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('quota changes reach open sessions', () => {
  test('a lowered workspace quota refuses the next write on an already open socket; a raised one admits it', async () => {
    const started = await startGateway();
    stops.push(started.stop);
    const configs = started.manager.stores.configs;
    const { token } = await started.manager.tokens.create('livequota');
    const connection = await connectGateway({ url: started.url, token });
    const version = async () => ((await connection.request('config.get')) as { version: number }).version;
    expect(await codeOf(connection.request('workspace.write', { name: 'a.md', content: 'x'.repeat(2_000) }))).toBe('ok');

    const before = await version();
    await configs.set!('livequota', { config: { quotas: { workspaceBytes: 1_000 } } });
    await until(async () => (await version()) !== before);
    expect(await codeOf(connection.request('workspace.write', { name: 'b.md', content: 'x'.repeat(500) }))).toBe('QUOTA_EXCEEDED');

    const lowered = await version();
    await configs.set!('livequota', { config: { quotas: { workspaceBytes: 1_000_000 } } });
    await until(async () => (await version()) !== lowered);
    expect(await codeOf(connection.request('workspace.write', { name: 'b.md', content: 'x'.repeat(500) }))).toBe('ok');
    connection.close();
  });
});

describe('sessions end with their token', () => {
  test('a token that expires closes its open socket with 1008 and a reason', async () => {
    const started = await startGateway();
    stops.push(started.stop);
    const { token } = await started.manager.tokens.create('shortlived', { ttlMs: 1_500 });
    const connection = await connectGateway({ url: started.url, token });
    expect(await codeOf(connection.request('health'))).toBe('ok');
    expect(await connection.closed).toEqual({ code: 1008, reason: 'token expired' });
  });

  test('after a rotation the old token’s socket closes when the grace ends; the successor’s stays open', async () => {
    const started = await startGateway();
    stops.push(started.stop);
    const { token } = await started.manager.tokens.create('rotating');
    const old = await connectGateway({ url: started.url, token });
    const rotated = await started.manager.tokens.rotate(token, { graceMs: 1_000 });
    const successor = await connectGateway({ url: started.url, token: rotated.token });
    expect(await old.closed).toEqual({ code: 1008, reason: 'token expired' });
    expect(await codeOf(successor.request('health'))).toBe('ok');
    successor.close();
  });

  test('a token without expiry keeps its session', async () => {
    const started = await startGateway();
    stops.push(started.stop);
    const { token } = await started.manager.tokens.create('forever');
    const connection = await connectGateway({ url: started.url, token });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await codeOf(connection.request('health'))).toBe('ok');
    connection.close();
  });
});
