import { afterEach, describe, expect, it } from 'vitest';
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

  async function start(options: { refuse?: string; coordinator?: Coordinator } = {}) {
    const manager = new TenantManager({
      ...createMemoryAdapter(),
      ...(options.coordinator === undefined ? {} : { coordinator: options.coordinator }),
      idleTimeoutMs: 0,
      drainTimeoutMs: 100,
    });
    gateway = createGateway({ manager, port: 0, tenantHttpRoutes: [whoAmI(() => manager, options.refuse)] });
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
});
