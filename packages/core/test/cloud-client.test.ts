import { inspect } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import { TenantManager, isMultiTenantError, type MultiTenantError } from '@openclaw-mt/core';
import { createCloudClient, createCloudTokenStore } from '@openclaw-mt/core/cloud';
import { createMemoryConfigSource, createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import { createToken } from '@openclaw-mt/core/tokens';
import { captureLogger } from './cloud-support/capture-logger.js';
import { ManualClock } from './cloud-support/manual-clock.js';
import { type StubBackend, startStubBackend } from './cloud-support/stub-backend.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stubBackend(): Promise<StubBackend> {
  const stub = await startStubBackend();
  cleanups.push(() => stub.close());
  return stub;
}

async function failureOf(promise: Promise<unknown>): Promise<MultiTenantError> {
  try {
    await promise;
  } catch (error) {
    if (isMultiTenantError(error)) return error;
    throw error;
  }
  throw new Error('expected a coded failure');
}

/** Every string reachable from `value` through own properties, getters (invoked) and causes included. */
function everyString(value: unknown, seen = new Set<unknown>(), depth = 0): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null || seen.has(value) || depth > 8) return [];
  seen.add(value);
  if (value instanceof Headers) return [...value.entries()].flat();
  const out: string[] = [];
  for (const key of Reflect.ownKeys(value)) {
    let item: unknown;
    try {
      item = (value as Record<PropertyKey, unknown>)[key];
    } catch {
      continue;
    }
    out.push(...everyString(item, seen, depth + 1));
  }
  return out;
}

const verifyRequests = (stub: StubBackend) => stub.requests.filter((request) => request.url.startsWith('/openclaw/gateway/verify'));

describe('cloud client', () => {
  test('the token travels only in the JSON body of a POST, with the service token as a bearer header', async () => {
    const stub = await stubBackend();
    stub.setUser('alice');
    const token = stub.issueToken('alice');
    const client = createCloudClient({ url: `${stub.url}/`, serviceToken: stub.serviceToken });
    expect(await client.verify(token)).toMatchObject({ kind: 'valid', answer: { userId: 'alice', status: 'active', configVersion: 1 } });
    const [request] = verifyRequests(stub);
    expect(request).toMatchObject({ method: 'POST', url: '/openclaw/gateway/verify' });
    expect(JSON.parse(request!.body)).toEqual({ token });
    expect(request!.headers.authorization).toBe(`Bearer ${stub.serviceToken}`);
    expect(request!.headers['content-type']).toBe('application/json');
  });

  test('a base URL path prefix is kept; credentials, queries and other schemes are refused', async () => {
    const stub = await stubBackend();
    const client = createCloudClient({ url: `${stub.url}/api/v1`, serviceToken: stub.serviceToken });
    await client.verify(createToken());
    expect(stub.requests.at(-1)?.url).toBe('/api/v1/openclaw/gateway/verify');
    for (const url of ['ftp://example.com', 'https://user:pw@example.com', 'https://example.com/?token=x', 'not a url']) {
      expect((await failureOf(Promise.resolve().then(() => createCloudClient({ url, serviceToken: 'service-token-123456' })))).code).toBe(
        'CONFIG_INVALID',
      );
    }
    expect((await failureOf(Promise.resolve().then(() => createCloudClient({ url: stub.url, serviceToken: 'has space' })))).code).toBe(
      'CONFIG_INVALID',
    );
  });

  test('401 and 404 are definite "invalid"; a rejected service token, 5xx and bad bodies are not', async () => {
    const stub = await stubBackend();
    const client = createCloudClient({ url: stub.url, serviceToken: stub.serviceToken });
    const token = createToken();
    stub.intercept = () => ({ status: 404, body: { error: { code: 'TOKEN_INVALID', message: 'x' } } });
    expect(await client.verify(token)).toEqual({ kind: 'invalid', status: 404 });
    stub.intercept = () => ({ status: 401 });
    expect(await client.verify(token)).toEqual({ kind: 'invalid', status: 401 });
    stub.intercept = () => ({ status: 401, body: { error: { code: 'SERVICE_UNAUTHORIZED', message: 'x' } } });
    expect(await failureOf(client.verify(token))).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      details: { reason: 'service-token-rejected' },
    });
    stub.intercept = () => ({ status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } });
    expect(await failureOf(client.verify(token))).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      details: { reason: 'server-error', status: 502 },
    });
    stub.intercept = () => ({ status: 200, body: { user_id: 'alice', status: 'active' } });
    const invalid = await failureOf(client.verify(token));
    expect(invalid.code).toBe('CONFIG_INVALID');
    expect(invalid.message).toContain('userId');
    stub.intercept = () => ({ status: 200, body: { userId: '../alice', status: 'active' } });
    expect((await failureOf(client.verify(token))).code).toBe('CONFIG_INVALID');
  });

  test('redirects are refused, so a token body is never re-sent elsewhere', async () => {
    const stub = await stubBackend();
    const client = createCloudClient({ url: stub.url, serviceToken: stub.serviceToken });
    stub.intercept = ({ path }) => (path === '/openclaw/gateway/verify' ? { status: 307, headers: { location: '/elsewhere' } } : undefined);
    expect(await failureOf(client.verify(createToken()))).toMatchObject({ code: 'BACKEND_UNAVAILABLE', details: { reason: 'redirect' } });
    expect(stub.requests.map((request) => request.url)).toEqual(['/openclaw/gateway/verify']);
  });

  test('errors never carry the token or the service token, however deeply inspected', async () => {
    const stub = await stubBackend();
    const token = createToken();
    // Long enough that a loaded machine still sees the 500 before the timeout; the hang case waits it out.
    const client = createCloudClient({ url: stub.url, serviceToken: stub.serviceToken, timeoutMs: 1_500 });
    const failures: MultiTenantError[] = [];
    for (const fault of ['down', 'reset', 'hang'] as const) {
      stub.fault = fault;
      failures.push(await failureOf(client.verify(token)));
    }
    await stub.close();
    failures.push(await failureOf(client.verify(token)));
    expect(failures.map((failure) => failure.details.reason)).toEqual(['server-error', 'network', 'timeout', 'network']);
    for (const failure of failures) {
      const shown = `${inspect(failure, { depth: 20, showHidden: true })} ${JSON.stringify(failure)} ${everyString(failure).join(' ')}`;
      expect(shown).not.toContain(token);
      expect(shown).not.toContain(stub.serviceToken);
    }
  });
});

describe('cloud token store', () => {
  async function storeFor(stub: StubBackend, options: { outageGraceMs?: number; breakerMs?: number } = {}) {
    const clock = new ManualClock();
    const client = createCloudClient({ url: stub.url, serviceToken: stub.serviceToken, timeoutMs: 1_000 });
    const store = createCloudTokenStore({ client, clock, logger: captureLogger().logger, ...options });
    return { store, clock };
  }

  test("tri-state: valid records carry the backend's tenant status; invalid is undefined; unknown throws", async () => {
    const stub = await stubBackend();
    stub.setUser('alice');
    stub.setUser('sam', { status: 'suspended' });
    const alice = stub.issueToken('alice', { expiresAt: Date.now() + 60_000 });
    const sam = stub.issueToken('sam');
    const { store } = await storeFor(stub);
    expect(await store.verify(alice)).toMatchObject({
      tenantId: 'alice',
      status: 'active',
      tenantStatus: 'active',
      expiresAt: expect.any(Number),
    });
    expect(await store.verify(sam)).toMatchObject({ tenantId: 'sam', status: 'active', tenantStatus: 'suspended' });
    expect(await store.verify(createToken())).toBeUndefined();
    expect(await store.verify('gt_notwellformed')).toBeUndefined();
    stub.fault = 'down';
    expect((await failureOf(store.verify(createToken()))).code).toBe('BACKEND_UNAVAILABLE');
    expect(verifyRequests(stub)).toHaveLength(4);
  });

  test('expired answers map to TOKEN_EXPIRED and are never served from the grace cache', async () => {
    const stub = await stubBackend();
    stub.setUser('alice');
    const token = stub.issueToken('alice', { expiresAt: Date.now() - 1 });
    const { store } = await storeFor(stub);
    const manager = new TenantManager({ tokens: store, configs: createMemoryConfigSource(), workspaces: createMemoryWorkspaceStore() });
    cleanups.push(() => manager.close());
    expect((await failureOf(manager.authenticate(token))).code).toBe('TOKEN_EXPIRED');
    stub.fault = 'down';
    expect((await failureOf(store.verify(token))).code).toBe('BACKEND_UNAVAILABLE');
  });

  test('a definite "invalid" drops the token from the grace cache', async () => {
    const stub = await stubBackend();
    stub.setUser('alice');
    const token = stub.issueToken('alice');
    const { store } = await storeFor(stub, { breakerMs: 0 });
    await store.verify(token);
    stub.fault = 'down';
    expect(await store.verify(token)).toMatchObject({ tenantId: 'alice' });
    stub.fault = undefined;
    stub.intercept = () => ({ status: 404 });
    expect(await store.verify(token)).toBeUndefined();
    stub.intercept = undefined;
    stub.fault = 'down';
    expect((await failureOf(store.verify(token))).code).toBe('BACKEND_UNAVAILABLE');
    expect(store.stats()).toMatchObject({ graceHits: 1, invalid: 1, unavailable: 1, graceEntries: 0 });
  });

  test('after a failure the breaker answers from the grace cache without asking the backend, until breakerMs passed', async () => {
    const stub = await stubBackend();
    stub.setUser('alice');
    const token = stub.issueToken('alice');
    const { store, clock } = await storeFor(stub, { breakerMs: 2_000 });
    await store.verify(token);
    stub.fault = 'down';
    await store.verify(token);
    const asked = verifyRequests(stub).length;
    for (let i = 0; i < 5; i++) await store.verify(token);
    expect((await failureOf(store.verify(createToken()))).retryAfterMs).toBeGreaterThanOrEqual(2_000);
    expect(verifyRequests(stub)).toHaveLength(asked);
    stub.fault = undefined;
    await clock.advance(2_000);
    await store.verify(token);
    expect(verifyRequests(stub)).toHaveLength(asked + 1);
  });
});
