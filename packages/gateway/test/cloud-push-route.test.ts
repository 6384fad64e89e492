import { afterEach, describe, expect, test } from 'vitest';
import { createPushReceiver, MAX_PUSH_BYTES, type PushedEntries, signPush } from '@openclaw-mt/core/cloud';
import { createCloudPushRoute } from '@openclaw-mt/gateway';
import { startGateway } from './support/harness.js';

const SECRET = 'push-secret-0123456789-abcdefghijklmnop';
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function gatewayWithPushes() {
  const applied: PushedEntries[] = [];
  const receiver = createPushReceiver({
    secrets: [SECRET],
    apply: async (entries) => {
      applied.push(entries);
      return { applied: entries.users?.length ?? 0, rejected: 0, tokenEvents: entries.tokens?.length ?? 0 };
    },
  });
  const started = await startGateway({ gateway: { httpRoutes: [createCloudPushRoute({ receiver })] } });
  stops.push(started.stop);
  const base = started.url.replace(/^ws/, 'http');
  const post = (body: string, signature?: string) =>
    fetch(`${base}/v1/cloud-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'openclaw-signature': signature } : {}) },
      body,
    });
  return { base, post, applied };
}

describe('the push route on the gateway’s port', () => {
  test('a signed event is applied and answered; a bad signature is 401; other methods 405; other paths fall through', async () => {
    const { base, post, applied } = await gatewayWithPushes();
    const body = JSON.stringify({ id: 'evt_1', createdAt: Date.now(), users: [{ userId: 'alice' }] });
    const ok = await post(body, signPush(SECRET, body, Date.now() / 1000));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, id: 'evt_1', duplicate: false });
    expect(applied).toHaveLength(1);
    const forged = await post(body, signPush('another-secret-0123456789-abcdefghijk', body, Date.now() / 1000));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: 'PUSH_SIGNATURE_INVALID' } });
    expect((await fetch(`${base}/v1/cloud-events`)).status).toBe(405);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(426);
    expect(applied).toHaveLength(1);
  });

  test('a body over the cap is refused with 413 before it is read whole', async () => {
    const { post, applied } = await gatewayWithPushes();
    const response = await post('x'.repeat(MAX_PUSH_BYTES + 1), 't=1,v1=00');
    expect(response.status).toBe(413);
    expect(applied).toEqual([]);
  });
});
