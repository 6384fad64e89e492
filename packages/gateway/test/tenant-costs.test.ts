import { afterEach, describe, expect, test } from 'vitest';
import { createGateway, createWorkspaceRuntime, type ActiveTenant, type TenantRuntime } from '@openclaw-mt/gateway';
import { createAdminServer, createGatewayMetrics } from '@openclaw-mt/gateway/admin';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import type { TenantUsage } from '@openclaw-mt/core/monitor';

const TOKEN = 'admin-token-for-tests-0123456789';
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** The workspace runtime, plus made-up process costs for each active tenant (as a per-tenant-process runtime reports them). */
function costingRuntime() {
  const inner = createWorkspaceRuntime();
  const active = new Map<string, ActiveTenant>();
  const runtime: TenantRuntime = {
    ...inner,
    name: 'costing',
    async activate(tenant) {
      active.set(tenant.tenantId, tenant);
    },
    async deactivate(tenantId) {
      active.delete(tenantId);
    },
    async usage(): Promise<TenantUsage[]> {
      return [...active.keys()].map((tenantId, index) => ({
        tenantId,
        rssBytes: (index + 1) * 100 * 2 ** 20,
        anonBytes: (index + 1) * 60 * 2 ** 20,
        cpuSeconds: index + 0.5,
        diskBytes: (index + 1) * 4096,
      }));
    },
  };
  return { runtime, active };
}

async function setup() {
  const manager = new TenantManager({
    ...createMemoryAdapter(),
    capacity: 10,
    idleTimeoutMs: 0,
    drainTimeoutMs: 100,
    defaults: { quotas: { workspaceBytes: 5_000 } },
  });
  const { runtime, active } = costingRuntime();
  const metrics = createGatewayMetrics({ manager, connections: () => 0, usage: () => runtime.usage!() });
  const gateway = createGateway({ manager, runtime, port: 0, drainTimeoutMs: 200, quotas: { connections: 3 } });
  await gateway.listen();
  stops.push(() => gateway.close());
  const admin = createAdminServer({ gateway, metrics, token: TOKEN, port: 0 });
  const { url } = await admin.listen();
  stops.push(() => admin.close());
  const get = async (path: string) => {
    const response = await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: response.status, text: await response.text() };
  };
  return { manager, active, get };
}

function series(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}\\{tenant="([^"]+)"\\} (\\S+)$`).exec(line);
    if (match) out[match[1]!] = Number(match[2]);
  }
  return out;
}

describe("tenants' own process costs", () => {
  test('/metrics has a memory, CPU and disk gauge per active tenant, and only for active ones', async () => {
    const { manager, get } = await setup();
    for (const id of ['a', 'b']) (await manager.acquire(id)).release();
    let text = (await get('/metrics')).text;
    expect(series(text, 'openclaw_mt_tenant_memory_bytes')).toEqual({ a: 100 * 2 ** 20, b: 200 * 2 ** 20 });
    expect(series(text, 'openclaw_mt_tenant_memory_anon_bytes')).toEqual({ a: 60 * 2 ** 20, b: 120 * 2 ** 20 });
    expect(series(text, 'openclaw_mt_tenant_cpu_seconds')).toEqual({ a: 0.5, b: 1.5 });
    expect(series(text, 'openclaw_mt_tenant_disk_bytes')).toEqual({ a: 4096, b: 8192 });
    expect(text).toMatch(/^openclaw_mt_host_memory_available_bytes \d+$/m);
    await manager.evict('a');
    // The next scrape is a fresh measurement: the evicted tenant's series are gone.
    text = (await get('/metrics')).text;
    expect(Object.keys(series(text, 'openclaw_mt_tenant_memory_bytes'))).toEqual(['b']);
  });

  test('/v1/stats sums the costs and lists them per tenant; /v1/tenants/<id> carries its own', async () => {
    const { manager, get } = await setup();
    for (const id of ['a', 'b']) (await manager.acquire(id)).release();
    const stats = JSON.parse((await get('/v1/stats')).text);
    expect(stats.cells).toMatchObject({ tenants: 2, rssBytes: 300 * 2 ** 20, anonBytes: 180 * 2 ** 20, cpuSeconds: 2, diskBytes: 12288 });
    expect(stats.cells.perTenant.map((tenant: TenantUsage) => tenant.tenantId)).toEqual(['a', 'b']);
    expect(stats.host.availableBytes).toBeGreaterThan(0);
    expect(stats.host.totalBytes).toBeGreaterThanOrEqual(stats.host.availableBytes);
    const one = JSON.parse((await get('/v1/tenants/b')).text);
    expect(one.usage).toEqual({ rssBytes: 200 * 2 ** 20, anonBytes: 120 * 2 ** 20, cpuSeconds: 1.5, diskBytes: 8192 });
  });

  test('a runtime learns the tenant quotas when it activates the tenant', async () => {
    const { manager, active } = await setup();
    (await manager.acquire('q')).release();
    expect(active.get('q')?.quotas).toEqual({ connections: 3, requestsPerMinute: 600, workspaceBytes: 5_000 });
  });
});
