import { afterEach, describe, expect, test } from 'vitest';
import { createAdminServer, createGatewayMetrics } from '@openclaw-mt/gateway/admin';
import { createGateway, connectGateway } from '@openclaw-mt/gateway';
import { createMemoryAdapter, MultiTenantError, TenantManager } from '@openclaw-mt/core';
import { createPushReceiver, signPush } from '@openclaw-mt/core/cloud';
import { createMemoryAuditLog } from '@openclaw-mt/core/testing';
import { Monitor } from '@openclaw-mt/core/monitor';

const TOKEN = 'admin-token-for-tests-0123456789';
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function setup() {
  let connections = () => 0;
  const manager = new TenantManager({ ...createMemoryAdapter(), capacity: 10, idleTimeoutMs: 0, drainTimeoutMs: 100 });
  const monitor = new Monitor({ manager, logStats: false });
  const metrics = createGatewayMetrics({ manager, connections: () => connections(), monitor });
  const gateway = createGateway({ manager, port: 0, drainTimeoutMs: 200, observer: metrics.observer });
  const started = { manager, gateway, url: (await gateway.listen()).url };
  stops.push(() => gateway.close());
  connections = () => gateway.connectionCount();
  const audit = createMemoryAuditLog();
  const admin = createAdminServer({ gateway, metrics, token: TOKEN, port: 0, monitor, audit });
  const { url } = await admin.listen();
  stops.push(() => admin.close());
  const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const response = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) };
  };
  return { ...started, call, audit };
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${name} `) || (row.startsWith(`${name}{`) && !row.startsWith('#')));
  if (line === undefined) throw new Error(`no metric ${name}`);
  return Number(line.split(' ').at(-1));
}

describe('admin endpoint', () => {
  test('refuses requests without the admin token, except /healthz', async () => {
    const { call } = await setup();
    expect((await call('GET', '/v1/stats', undefined, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await call('GET', '/metrics', undefined, '')).status).toBe(401);
    expect((await call('GET', '/healthz', undefined, '')).status).toBe(200);
  });

  test('stats and /metrics report the same numbers', async () => {
    const { call, manager, url } = await setup();
    const tokens = await Promise.all(['a', 'b', 'c'].map((id) => manager.tokens.create(id)));
    const open = await Promise.all(tokens.slice(0, 2).map(({ token }) => connectGateway({ url, token })));
    (await manager.acquire('c')).release();
    await manager.authenticate('gt_bad').catch(() => undefined);
    const stats = (await call('GET', '/v1/stats')).json();
    const text = (await call('GET', '/metrics')).text;
    expect(stats).toMatchObject({ resident: 3, pinned: 2, capacity: 10, connections: 2 });
    expect(metric(text, 'openclaw_mt_tenants{state="resident"}')).toBe(stats.resident);
    expect(metric(text, 'openclaw_mt_tenants{state="pinned"}')).toBe(stats.pinned);
    expect(metric(text, 'openclaw_mt_tenant_capacity')).toBe(stats.capacity);
    expect(metric(text, 'openclaw_mt_connections')).toBe(stats.connections);
    expect(metric(text, 'openclaw_mt_activations_total{result="ok"}')).toBe(stats.activations);
    expect(metric(text, 'openclaw_mt_auth_total{result="failure"}')).toBe(stats.auth.failures);
    expect(metric(text, 'openclaw_mt_auth_failures_total{code="TOKEN_MALFORMED"}')).toBe(1);
    expect(text).toContain('openclaw_mt_handshake_duration_seconds_count{outcome="ok"} 2');
    for (const connection of open) connection.close();
  });

  test('a fleet node labels every series with its node id, so scrapes of several nodes never merge', async () => {
    const manager = new TenantManager({ ...createMemoryAdapter(), capacity: 4, idleTimeoutMs: 0 });
    stops.push(() => manager.close());
    (await manager.acquire('node-label-tenant')).release();
    const metrics = createGatewayMetrics({ manager, connections: () => 0, nodeId: 'node-a-1234' });
    stops.push(async () => metrics.close());
    const text = await metrics.render();
    expect(metric(text, 'openclaw_mt_tenants{state="resident",node="node-a-1234"}')).toBe(1);
    expect(metric(text, 'openclaw_mt_tenant_capacity{node="node-a-1234"}')).toBe(4);
    // No series escapes the label.
    const series = text.split('\n').filter((line) => line.startsWith('openclaw_mt_'));
    expect(series.length).toBeGreaterThan(0);
    expect(series.filter((line) => !line.includes('node="node-a-1234"'))).toEqual([]);
  });

  test('the Cloud Backend in /metrics: verification health, outages by code, pushes by outcome', async () => {
    const manager = new TenantManager({ ...createMemoryAdapter(), capacity: 4, idleTimeoutMs: 0 });
    stops.push(() => manager.close());
    const secret = 'push-secret-for-metrics-0123456789abcdef';
    const push = createPushReceiver({ secrets: [secret], apply: async () => ({ applied: 0, rejected: 0, tokenEvents: 0 }) });
    const metrics = createGatewayMetrics({ manager, connections: () => 0, push });
    stops.push(async () => metrics.close());
    expect(metric(await metrics.render(), 'openclaw_mt_backend_healthy')).toBe(1);

    await manager.hooks.callHook('backend:failed', { error: new MultiTenantError('BACKEND_UNAVAILABLE', 'verify timed out') });
    let text = await metrics.render();
    expect(metric(text, 'openclaw_mt_backend_healthy')).toBe(0);
    expect(metric(text, 'openclaw_mt_backend_outages_total{code="BACKEND_UNAVAILABLE"}')).toBe(1);
    await manager.hooks.callHook('backend:recovered', { downtimeMs: 1_500 });
    expect(metric(await metrics.render(), 'openclaw_mt_backend_healthy')).toBe(1);

    const body = JSON.stringify({ id: 'evt_1', createdAt: Date.now(), users: [] });
    const signed = { signature: signPush(secret, body, Date.now() / 1000), body };
    expect((await push.handle(signed)).status).toBe(200);
    expect((await push.handle(signed)).status).toBe(200);
    expect(
      (await push.handle({ signature: signPush('wrong-secret-0123456789abcdef0123456789', body, Date.now() / 1000), body })).status,
    ).toBe(401);
    text = await metrics.render();
    expect(metric(text, 'openclaw_mt_cloud_pushes_total{outcome="accepted"}')).toBe(1);
    expect(metric(text, 'openclaw_mt_cloud_pushes_total{outcome="duplicate"}')).toBe(1);
    expect(metric(text, 'openclaw_mt_cloud_pushes_total{outcome="refused"}')).toBe(1);
    // A second scrape counts nothing twice.
    expect(metric(await metrics.render(), 'openclaw_mt_cloud_pushes_total{outcome="accepted"}')).toBe(1);
  });

  test('lists active tenants with their connections, evicts (audited) and cleans up', async () => {
    const { call, manager, url, audit } = await setup();
    const { token } = await manager.tokens.create('busy');
    const connection = await connectGateway({ url, token });
    (await manager.acquire('idle-1')).release();
    (await manager.acquire('idle-2')).release();
    const listed = (await call('GET', '/v1/tenants')).json().tenants;
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ tenantId: 'busy', connections: 1, pins: 1 })]));
    const refused = await call('POST', '/v1/tenants/busy/evict', {});
    expect(refused.status).toBe(409);
    expect(refused.json().error.details.code).toBe('TENANT_BUSY');
    expect((await call('POST', '/v1/tenants/idle-1/evict', {})).json()).toEqual({ tenantId: 'idle-1', evicted: true });
    expect((await call('POST', '/v1/cleanup')).json()).toEqual({ evicted: 1 });
    expect((await call('POST', '/v1/tenants/busy/evict', { force: true })).json()).toEqual({ tenantId: 'busy', evicted: true });
    expect((await connection.closed).code).toBe(1012);
    const entries = await audit.list();
    expect(entries.map((entry) => `${entry.action}:${entry.result}`)).toEqual([
      'tenant.evict:ok',
      'tenant.cleanup:ok',
      'tenant.evict:ok',
      'tenant.evict:error',
    ]);
    expect(entries.at(-1)).toMatchObject({ code: 'TENANT_BUSY', tenantId: 'busy', actor: expect.stringMatching(/^admin-api:/) });
    expect((await call('POST', '/v1/sync')).status).toBe(409);
  });
});

describe('admin endpoint tenant paths', () => {
  test('a malformed % escape answers a coded 400', async () => {
    const { call } = await setup();
    for (const path of ['/v1/tenants/%E0%A4%A', '/v1/tenants/%zz', '/v1/tenants/%/evict']) {
      const response = await call(path.endsWith('/evict') ? 'POST' : 'GET', path);
      expect(response.status, path).toBe(400);
      expect(response.json().error.details.code).toBe('BAD_REQUEST');
    }
  });

  test('an invalid tenant id answers a coded 400 and is not echoed as a tenant', async () => {
    const { call } = await setup();
    for (const path of ['/v1/tenants/..%2Fbob', '/v1/tenants/x%00y', '/v1/tenants/A%20B', '/v1/tenants/..%2Fbob/evict']) {
      const response = await call(path.endsWith('/evict') ? 'POST' : 'GET', path);
      expect(response.status, path).toBe(400);
      expect(response.json().error.details.code).toBe('TENANT_ID_INVALID');
      expect(response.json().tenantId).toBeUndefined();
    }
  });
});
