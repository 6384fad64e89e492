import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway, GatewayRequestError, type GatewayConnection } from '@openclaw-mt/gateway';
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

/** The close a connection gets, or `open` if it is still open after the guard (a hang guard, not a timing check). */
function closeOf(connection: GatewayConnection): Promise<{ code: number; reason: string } | 'open'> {
  return Promise.race([connection.closed, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 5_000))]);
}

describe('a lowered connection quota', () => {
  test('closes the newest sockets beyond it at once (1008, saying why); the oldest stay; new ones are refused until raised', async () => {
    const started = await startGateway();
    stops.push(started.stop);
    const configs = started.manager.stores.configs;
    const { token } = await started.manager.tokens.create('crowded');
    const oldest = await connectGateway({ url: started.url, token });
    const second = await connectGateway({ url: started.url, token });
    const third = await connectGateway({ url: started.url, token });
    const newest = await connectGateway({ url: started.url, token });
    for (const connection of [oldest, second, third, newest]) expect(await codeOf(connection.request('health'))).toBe('ok');

    await configs.set!('crowded', { config: { quotas: { connections: 2 } } });
    const lowered = { code: 1008, reason: 'connection quota lowered to 2' };
    expect(await closeOf(newest)).toEqual(lowered);
    expect(await closeOf(third)).toEqual(lowered);
    expect(await codeOf(oldest.request('health'))).toBe('ok');
    expect(await codeOf(second.request('health'))).toBe('ok');
    expect(await codeOf(connectGateway({ url: started.url, token }))).toBe('QUOTA_EXCEEDED');

    await configs.set!('crowded', { config: { quotas: { connections: 3 } } });
    let admitted: GatewayConnection | undefined;
    for (let i = 0; i < 200 && admitted === undefined; i++) {
      admitted = await connectGateway({ url: started.url, token }).catch(() => undefined);
      if (admitted === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(admitted).toBeDefined();
    expect(await codeOf(oldest.request('health'))).toBe('ok');
    for (const connection of [oldest, second, admitted!]) connection.close();
  });

  test('a raised quota closes nothing', async () => {
    const started = await startGateway();
    stops.push(started.stop);
    const configs = started.manager.stores.configs;
    const { token } = await started.manager.tokens.create('roomy');
    const first = await connectGateway({ url: started.url, token });
    const second = await connectGateway({ url: started.url, token });
    const version = async () => ((await first.request('config.get')) as { version: number }).version;
    const before = await version();
    await configs.set!('roomy', { config: { quotas: { connections: 20 } } });
    for (let i = 0; i < 200 && (await version()) === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await version()).not.toBe(before);
    expect(await codeOf(second.request('health'))).toBe('ok');
    first.close();
    second.close();
  });
});
