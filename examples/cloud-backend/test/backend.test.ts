import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { createTokenHasher } from '@openclaw-mt/core/tokens';
import { decodeCursor, encodeCursor } from '../src/index.js';
import { SECRETS, startBackend } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(options: { now?: () => number } = {}) {
  const env = await startBackend(options);
  cleanups.push(() => env.close());
  return env;
}

describe('accounts and sessions', () => {
  test('signup validates input and refuses duplicates; login failures do not reveal which part was wrong', async () => {
    const { api } = await backend();
    expect((await api.call('POST', '/signup', { body: { email: 'not-an-email', password: 'long enough password' } })).status).toBe(400);
    expect((await api.call('POST', '/signup', { body: { email: 'a@example.com', password: 'short' } })).status).toBe(400);
    expect((await api.call('POST', '/signup', { body: { email: 'a@example.com', password: 'long enough password' } })).status).toBe(201);
    expect((await api.call('POST', '/signup', { body: { email: 'A@Example.com', password: 'long enough password' } })).status).toBe(409);
    const wrongPassword = await api.call('POST', '/login', { body: { email: 'a@example.com', password: 'wrong password!' } });
    const noSuchUser = await api.call('POST', '/login', { body: { email: 'b@example.com', password: 'long enough password' } });
    expect([wrongPassword.status, noSuchUser.status]).toEqual([401, 401]);
    expect(wrongPassword.body).toEqual(noSuchUser.body);
  });

  test('sessions are checked: garbage, a wrong signature and expiry are 401', async () => {
    let now = Date.now();
    const { api } = await backend({ now: () => now });
    const { session } = await api.register('a@example.com');
    expect((await api.call('GET', '/me', { bearer: session })).status).toBe(200);
    expect((await api.call('GET', '/me', { bearer: 'garbage' })).status).toBe(401);
    const [header, payload] = session.split('.');
    expect((await api.call('GET', '/me', { bearer: `${header}.${payload}.AAAA` })).status).toBe(401);
    now += 2 * 3600_000;
    expect((await api.call('GET', '/me', { bearer: session })).status).toBe(401);
  });
});

describe('gateway tokens', () => {
  test('a token is shown once and stored only as its SHA-256', async () => {
    const env = await backend();
    const { session } = await env.api.register('a@example.com');
    const issued = await env.api.issueToken(session, { label: 'laptop' });
    const listed = await env.api.call('GET', '/openclaw/gateway/tokens', { bearer: session });
    expect(listed.body.tokens).toEqual([
      { tokenId: issued.tokenId, label: 'laptop', createdAt: expect.any(Number), expiresAt: null, status: 'active' },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(issued.token);
    await env.backend.close();
    let files = '';
    for (const name of ['backend.sqlite', 'backend.sqlite-wal']) files += await readFile(join(env.dir, name), 'latin1').catch(() => '');
    expect(files).not.toContain(issued.token);
    expect(files).toContain(createTokenHasher().hash(issued.token));
  });

  test('rotation: the new token works, the old one until its grace ends; revocation is immediate', async () => {
    let now = Date.now();
    const { api } = await backend({ now: () => now });
    const { session, userId } = await api.register('a@example.com');
    const first = await api.issueToken(session);
    const rotated = await api.call('POST', `/openclaw/gateway/tokens/${first.tokenId}/rotate`, {
      bearer: session,
      body: { graceSeconds: 60 },
    });
    expect(rotated.status).toBe(201);
    expect((await api.verify(rotated.body.token)).body).toMatchObject({ userId, status: 'active' });
    expect((await api.verify(first.token)).body).toMatchObject({ userId, status: 'active', expiresAt: now + 60_000 });
    now += 61_000;
    expect((await api.verify(first.token)).body).toMatchObject({ status: 'expired' });
    expect((await api.call('DELETE', `/openclaw/gateway/tokens/${rotated.body.tokenId}`, { bearer: session })).status).toBe(204);
    expect((await api.verify(rotated.body.token)).status).toBe(404);
    const other = await api.register('b@example.com');
    expect((await api.call('DELETE', `/openclaw/gateway/tokens/${first.tokenId}`, { bearer: other.session })).status).toBe(404);
  });

  test("suspended users cannot issue tokens; their tokens verify as suspended; deleted users' tokens are invalid", async () => {
    const { api } = await backend();
    const { session, userId } = await api.register('a@example.com');
    const { token } = await api.issueToken(session);
    expect((await api.call('POST', `/admin/users/${userId}/suspend`, { bearer: 'wrong-admin-token-0000' })).status).toBe(401);
    expect((await api.admin('suspend', userId)).body).toMatchObject({ status: 'suspended', version: 2 });
    expect((await api.call('POST', '/openclaw/gateway/token', { bearer: session, body: {} })).status).toBe(403);
    expect((await api.verify(token)).body).toMatchObject({ userId, status: 'suspended' });
    expect((await api.call('DELETE', `/admin/users/${userId}`, { bearer: SECRETS.adminToken })).body).toMatchObject({
      status: 'deleted',
      config: {},
      version: 3,
    });
    expect((await api.verify(token)).status).toBe(404);
    expect((await api.call('POST', '/login', { body: { email: 'a@example.com', password: 'correct horse battery staple' } })).status).toBe(
      401,
    );
    expect((await api.call('GET', '/me', { bearer: session })).status).toBe(401);
  });
});

describe('user configs', () => {
  test('PATCH /me/config is a merge patch of config only: status and version cannot be changed; every change bumps the version', async () => {
    const { api } = await backend();
    const { session } = await api.register('a@example.com');
    const patch = (body: unknown, headers: Record<string, string> = {}) =>
      api.call('PATCH', '/me/config', { bearer: session, body, headers });
    expect((await patch({ config: { model: 'x', tools: { web: true, shell: true } } })).body).toMatchObject({
      version: 2,
      config: { model: 'x', tools: { web: true, shell: true } },
    });
    expect((await patch({ config: { tools: { shell: null } } })).body).toMatchObject({
      version: 3,
      config: { model: 'x', tools: { web: true } },
    });
    for (const body of [{ status: 'active' }, { version: 99 }, { config: {}, status: 'active' }, { userId: 'someone-else' }]) {
      const refused = await patch(body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain(`"${Object.keys(body).find((key) => key !== 'config')}"`);
    }
    expect((await patch({ config: [1] })).status).toBe(400);
    expect((await patch(JSON.parse('{"config": {"__proto__": {"polluted": true}}}'))).status).toBe(400);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect((await patch({ config: deep })).body.error.code).toBe('CONFIG_INVALID');
    expect((await patch({ config: { a: 1 } }, { 'if-match': '"2"' })).status).toBe(412);
    expect((await patch({ config: { a: 1 } }, { 'if-match': '"3"' })).body.version).toBe(4);
    const read = await api.call('GET', '/me/config', { bearer: session });
    expect(read.body).toMatchObject({ status: 'active', version: 4, config: { model: 'x', tools: { web: true }, a: 1 } });
    expect(read.headers.get('etag')).toBe('"4"');
  });
});

describe('gateway endpoints', () => {
  test('a token (or any credential) in the URL is refused with 400 and never logged', async () => {
    const env = await backend();
    const { session } = await env.api.register('a@example.com');
    const { token } = await env.api.issueToken(session);
    const attempts = [
      env.api.call('POST', `/openclaw/gateway/verify?token=${token}`, { bearer: SECRETS.serviceToken, body: { token } }),
      env.api.call('GET', `/openclaw/gateway/verify?token=${token}`, { bearer: SECRETS.serviceToken }),
      env.api.call('GET', `/openclaw/gateway/configs?access_token=${SECRETS.serviceToken}`),
      env.api.call('GET', `/openclaw/gateway/configs?cursor=${token}`, { bearer: SECRETS.serviceToken }),
      env.api.call('GET', `/me/config?jwt=${session}`),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('TOKEN_IN_URL');
    }
    expect(env.log.lines.length).toBeGreaterThan(0);
    for (const line of env.log.lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(SECRETS.serviceToken);
      expect(line).not.toContain(session);
    }
  });

  test('the service token is required and checked', async () => {
    const { api } = await backend();
    expect((await api.call('GET', '/openclaw/gateway/configs')).status).toBe(401);
    const wrong = await api.call('POST', '/openclaw/gateway/verify', { bearer: 'not-the-service-token', body: { token: 'gt_x' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('SERVICE_UNAUTHORIZED');
    const user = await api.register('a@example.com');
    expect((await api.call('GET', '/openclaw/gateway/configs', { bearer: user.session })).status).toBe(401);
  });

  test('the feed: opaque cursors over the change sequence, per-user versions, deletions, ETag/304, bad cursors', async () => {
    const { api } = await backend();
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await api.register(`u${i}@example.com`));
    const first = await api.configs('?limit=2');
    expect(first.body).toMatchObject({ hasMore: true });
    expect(first.body.users.map((user: { userId: string }) => user.userId)).toEqual([users[0]!.userId, users[1]!.userId]);
    expect(first.body.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const all = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await api.configs(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...page.body.users);
      cursor = page.body.nextCursor;
      if (!page.body.hasMore) break;
    }
    expect(all).toHaveLength(5);
    const end = await api.configs(`?cursor=${cursor}`);
    expect(end.body).toEqual({ users: [], nextCursor: cursor, hasMore: false });
    const etag = end.headers.get('etag')!;
    expect(
      (
        await api.call('GET', `/openclaw/gateway/configs?cursor=${cursor}`, {
          bearer: SECRETS.serviceToken,
          headers: { 'if-none-match': etag },
        })
      ).status,
    ).toBe(304);

    await api.call('PATCH', '/me/config', { bearer: users[1]!.session, body: { config: { n: 1 } } });
    await api.call('DELETE', `/admin/users/${users[3]!.userId}`, { bearer: SECRETS.adminToken });
    const changed = await api.call('GET', `/openclaw/gateway/configs?cursor=${cursor}`, {
      bearer: SECRETS.serviceToken,
      headers: { 'if-none-match': etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.users).toEqual([
      { userId: users[1]!.userId, status: 'active', config: { n: 1 }, version: 2, updatedAt: expect.any(Number) },
      { userId: users[3]!.userId, status: 'deleted', config: {}, version: 2, updatedAt: expect.any(Number) },
    ]);

    for (const bad of ['%%%', 'abc', encodeCursor(10_000), Buffer.from('{"v":2,"s":1}').toString('base64url')]) {
      const refused = await api.configs(`?cursor=${encodeURIComponent(bad)}`);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('CURSOR_INVALID');
    }
    for (const limit of ['0', '-1', 'x', '99999999']) expect((await api.configs(`?limit=${limit}`)).status).toBe(400);
  });

  test('property: cursors round-trip, and nothing but a canonical cursor decodes', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (sequence) => {
        expect(decodeCursor(encodeCursor(sequence))).toBe(sequence);
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.base64String(), fc.string({ unit: fc.constantFrom(...'eyJ2IjoxLCJzIjo0Mn0_-=A'.split('')) })),
        (text) => {
          const decoded = decodeCursor(text);
          if (decoded !== undefined) expect(encodeCursor(decoded)).toBe(text);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
