import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { createHostServer } from '../src/host-server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function start() {
  const manager = new TenantManager({ ...createMemoryAdapter(), defaults: { model: 'house-model' } });
  const server = createHostServer(manager);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    await new Promise((resolve) => server.close(resolve));
    await manager.close();
  });
  return { manager, base };
}

describe('a host gateway embedding core', () => {
  test('each caller works only in its own tenant, and every lease is released', async () => {
    const { manager, base } = await start();
    const alice = (await manager.tokens.create('alice')).token;
    const bob = (await manager.tokens.create('bob')).token;
    const post = (token: string, body: unknown) =>
      fetch(`${base}/notes`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    expect((await post(alice, { name: 'a.md', text: 'alice only' })).status).toBe(201);
    const own = await fetch(`${base}/notes/a.md`, { headers: { authorization: `Bearer ${alice}` } });
    expect(await own.json()).toEqual({ tenantId: 'alice', name: 'a.md', text: 'alice only' });
    const other = await fetch(`${base}/notes/a.md`, { headers: { authorization: `Bearer ${bob}` } });
    expect(other.status).toBe(404);
    const traversal = await fetch(`${base}/notes/..%2F..%2F..%2Falice%2Fworkspace%2Fnotes%2Fa.md`, {
      headers: { authorization: `Bearer ${bob}` },
    });
    expect(await traversal.json()).toMatchObject({ error: 'PATH_INVALID' });
    expect(await (await fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${bob}` } })).json()).toEqual({
      tenantId: 'bob',
      model: 'house-model',
    });
    expect(manager.stats().pinned).toBe(0);
  });

  test('missing, malformed and revoked tokens are refused with 401 and a code', async () => {
    const { manager, base } = await start();
    const { token } = await manager.tokens.create('carol');
    expect((await fetch(`${base}/whoami`)).status).toBe(401);
    expect(await (await fetch(`${base}/whoami`, { headers: { authorization: 'Bearer gt_bad' } })).json()).toMatchObject({
      error: 'TOKEN_MALFORMED',
    });
    await manager.tokens.revoke(token);
    expect(await (await fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } })).json()).toMatchObject({
      error: 'TOKEN_REVOKED',
    });
  });
});
