import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryAdapter, MultiTenantError, TenantManager, type Coordinator } from '@openclaw-mt/core';
import { createGateway, type Gateway, type TenantHttpRoute } from '@openclaw-mt/gateway';
import { directory } from './support/harness.js';

// Tenant HTTP routes on the gateway's port: the door authenticates, authorizes, pins and rate-limits
// before a route serves; each refusal is a JSON coded error.

/** A route that answers with the tenant it was given and whether the tenant is pinned meanwhile. */
function whoAmI(manager: () => TenantManager, refuse?: string): TenantHttpRoute {
  return {
    matches: (request) => request.url === '/whoami',
    authorize(tenantId) {
      if (tenantId === refuse)
        throw new MultiTenantError('BAD_REQUEST', 'Not for you.', { details: { reason: 'privilege-required', status: 403 } });
    },
    async serve(_request, response, tenant) {
      const pinned = manager().stats().pinned;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ tenantId: tenant.tenantId, pinned, rpm: tenant.quotas.requestsPerMinute }));
    },
  };
}

/** A coordinator whose every tenant is held by another node. */
const elsewhere: Coordinator = {
  nodeId: 'here',
  claim: async (tenantId) => {
    throw new MultiTenantError('LEASE_HELD', `${tenantId} is active on node there.`, { retryAfterMs: 100, details: { owner: 'there' } });
  },
  release: async () => undefined,
  validate: async () => true,
};

describe('tenant HTTP routes', () => {
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  async function start(
    options: { refuse?: string; coordinator?: Coordinator; routes?: (manager: TenantManager) => TenantHttpRoute[] } = {},
  ) {
    const manager = new TenantManager({
      ...createMemoryAdapter(),
      ...(options.coordinator === undefined ? {} : { coordinator: options.coordinator }),
      idleTimeoutMs: 0,
      drainTimeoutMs: 100,
    });
    gateway = createGateway({
      manager,
      port: 0,
      tenantHttpRoutes: [whoAmI(() => manager, options.refuse), ...(options.routes?.(manager) ?? [])],
    });
    const { url } = await gateway.listen();
    return { manager, base: url.replace(/^ws/, 'http') };
  }

  it('serves an authenticated tenant, pinned while it is served, and leaves it unpinned after', async () => {
    const { manager, base } = await start();
    const { token } = await manager.tokens.create('alice');
    const response = await fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ tenantId: 'alice', pinned: 1, rpm: 600 });
    expect(manager.stats().pinned).toBe(0);
  });

  it('refuses before activating: a bad token (401) or a tenant the route does not authorize (403)', async () => {
    const { manager, base } = await start({ refuse: 'bob' });
    const { token } = await manager.tokens.create('bob');
    const bad = await fetch(`${base}/whoami`, { headers: { authorization: 'Bearer gt_nope' } });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('TOKEN_MALFORMED');
    const refused = await fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('privilege-required');
    expect(manager.stats().activations).toBe(0);
  });

  it('answers a tenant another node owns with a retryable 503 when it has no fleet link to that node', async () => {
    const { manager, base } = await start({ coordinator: elsewhere });
    const { token } = await manager.tokens.create('alice');
    const response = await fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const { error } = (await response.json()) as { error: { code: string; retryable: boolean; details: { reason: string } } };
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true, details: { reason: 'tenant-on-other-node' } });
  });

  it('carries a request for a tenant another node owns to that node, body and answer streamed, and counts nothing twice', async () => {
    const stores = createMemoryAdapter();
    const { owner, entry } = directory();
    const fleet = { secret: 'a-fleet-secret-for-the-tenant-http-tests', port: 0 };
    /** Answers with the node that served, what it was sent, and the headers it saw. */
    const served = (node: string, manager: () => TenantManager): TenantHttpRoute => ({
      matches: (request) => request.url === '/echo',
      async serve(request, response, tenant) {
        let body = '';
        for await (const chunk of request) body += String(chunk);
        response.writeHead(201, { 'content-type': 'application/json', 'x-served-by': node });
        response.end(JSON.stringify({ node, tenantId: tenant.tenantId, body, headers: request.headers, pinned: manager().stats().pinned }));
      },
    });
    const base = { ...stores, idleTimeoutMs: 0, drainTimeoutMs: 100 };
    const ownerManager = new TenantManager({ ...base, coordinator: owner });
    const ownerGateway = createGateway({ manager: ownerManager, port: 0, fleet, tenantHttpRoutes: [served('owner', () => ownerManager)] });
    await ownerGateway.listen();
    const entryManager = new TenantManager({ ...base, coordinator: entry });
    gateway = createGateway({ manager: entryManager, port: 0, fleet, tenantHttpRoutes: [served('entry', () => entryManager)] });
    const entryBase = (await gateway.listen()).url.replace(/^ws/, 'http');
    try {
      const { token } = await ownerManager.tokens.create('alice');
      const response = await fetch(`${entryBase}/echo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: 'hello owner',
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-served-by')).toBe('owner');
      const answer = (await response.json()) as {
        node: string;
        tenantId: string;
        body: string;
        headers: Record<string, string>;
        pinned: number;
      };
      expect(answer).toMatchObject({ node: 'owner', tenantId: 'alice', body: 'hello owner', pinned: 1 });
      // The route on the owner sees the client's request, not the fleet's credential or bookkeeping.
      expect(Object.keys(answer.headers).filter((name) => name.startsWith('x-openclaw-mt-'))).toEqual([]);
      expect(answer.headers.authorization).toBe(`Bearer ${token}`);
      expect(entryManager.stats().activations).toBe(0);
      // A wrong token is refused by the node it reached, and never carried on.
      const ownerChecks = () => {
        const { hits, misses, failures } = ownerManager.stats().auth;
        return hits + misses + failures;
      };
      const checked = ownerChecks();
      const wrong = await fetch(`${entryBase}/echo`, { method: 'POST', headers: { authorization: `Bearer ${token}x` }, body: 'x' });
      expect(wrong.status).toBe(401);
      expect(ownerChecks()).toBe(checked);
    } finally {
      await ownerGateway.close();
    }
  });

  it('leaves other paths to the rest of the gateway', async () => {
    const { base } = await start();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  describe('what ends a session ends a request in flight', () => {
    /** `/wait` answers only once its signal aborts; `/stream` sends one event, then holds the rest until its signal aborts. */
    function held(aborted: string[]): TenantHttpRoute[] {
      const note = (name: string, signal: AbortSignal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener(
            'abort',
            () => {
              aborted.push(name);
              resolve();
            },
            { once: true },
          ),
        );
      return [
        { matches: (request) => request.url === '/wait', serve: (_request, _response, tenant) => note('wait', tenant.signal) },
        {
          matches: (request) => request.url === '/stream',
          async serve(_request, response, tenant) {
            response.writeHead(200, { 'content-type': 'text/event-stream' });
            response.write('data: one\n\n');
            await note('stream', tenant.signal);
          },
        },
      ];
    }

    /** Reads a streamed answer until it ends; `cut` when the connection was destroyed instead of finished. */
    async function readToEnd(response: Response): Promise<{ text: string; cut: boolean }> {
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return { text, cut: false };
          text += decoder.decode(value);
        }
      } catch {
        return { text, cut: true };
      }
    }

    it('a revoked token: its waiting request gets 401 TOKEN_REVOKED, its stream is cut, the same tenant’s other token goes on', async () => {
      const aborted: string[] = [];
      const { manager, base } = await start({ routes: () => held(aborted) });
      const revoked = await manager.tokens.create('alice');
      const kept = await manager.tokens.create('alice');
      const waiting = fetch(`${base}/wait`, { headers: { authorization: `Bearer ${revoked.token}` } });
      const stream = await fetch(`${base}/stream`, { headers: { authorization: `Bearer ${revoked.token}` } });
      const other = await fetch(`${base}/stream`, { headers: { authorization: `Bearer ${kept.token}` } });
      expect(stream.status).toBe(200);
      await vi.waitFor(() => expect(manager.stats().pinned).toBe(1));
      await manager.tokens.revoke(revoked.record.tokenHash);
      const refused = await waiting;
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TOKEN_REVOKED');
      expect(await readToEnd(stream)).toEqual({ text: 'data: one\n\n', cut: true });
      expect(aborted.sort()).toEqual(['stream', 'wait']);
      // The other token's stream is still open: only a suspension of the account ends it.
      await manager.suspend('alice');
      expect(await readToEnd(other)).toEqual({ text: 'data: one\n\n', cut: true });
      expect(aborted).toHaveLength(3);
      await vi.waitFor(() => expect(manager.stats().pinned).toBe(0));
    });

    it('a waiting request whose token expires gets 401 TOKEN_EXPIRED', async () => {
      const aborted: string[] = [];
      const { manager, base } = await start({ routes: () => held(aborted) });
      const { token } = await manager.tokens.create('alice', { ttlMs: 400 });
      const response = await fetch(`${base}/wait`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('TOKEN_EXPIRED');
      expect(aborted).toEqual(['wait']);
    });

    it('an operator’s eviction: a waiting request gets a retryable 503', async () => {
      const aborted: string[] = [];
      const { manager, base } = await start({ routes: () => held(aborted) });
      const { token } = await manager.tokens.create('alice');
      const waiting = fetch(`${base}/wait`, { headers: { authorization: `Bearer ${token}` } });
      await vi.waitFor(() => expect(manager.stats().pinned).toBe(1));
      await manager.evict('alice', { force: true });
      const response = await waiting;
      expect(response.status).toBe(503);
      const { error } = (await response.json()) as { error: { code: string; retryable: boolean } };
      expect(error).toMatchObject({ code: 'CLOSED', retryable: true });
      expect(aborted).toEqual(['wait']);
    });
  });
});
