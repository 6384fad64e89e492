import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '@openclaw-mt/core';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { createFakeInstall } from '../../runtime-openclaw/test/support/harness.js';
import { buildGateway, type BuiltGateway } from '../src/context/build-gateway.js';
import { run } from './support/cli-process.js';

// The gateway serve builds with the openclaw runtime (a fake `openclaw` entry: a real Node process per cell):
// cell costs in the admin API and /metrics, and a capacity that follows the memory budget.

const ADMIN_TOKEN = 'admin-token-for-cell-costs-0123456789';
const GiB = 1024 ** 3;

describe('serve with OpenClaw cells and a memory budget', () => {
  let install: { dir: string; cleanup: () => Promise<void> };
  let dir: string;
  let configPath: string;
  let built: BuiltGateway;
  let urls: { url: string; adminUrl: string | undefined };
  const open: GatewayConnection[] = [];

  beforeAll(async () => {
    install = await createFakeInstall();
    dir = await mkdtemp(join(tmpdir(), 'ocmt-cell-costs-'));
    const path = join(dir, 'config.json');
    configPath = path;
    await writeFile(
      path,
      JSON.stringify({
        multiTenant: {
          dataDir: join(dir, 'data'),
          maxCachedUsers: 50,
          monitor: { intervalMs: 200, hostMemoryLowBytes: 1024 },
          admin: { token: ADMIN_TOKEN, port: 0 },
          gateway: {
            runtime: 'openclaw',
            port: 0,
            handshakeTimeoutMs: 60_000,
            openclaw: {
              runtimeDir: install.dir,
              sandbox: false,
              osUsers: false,
              ports: { first: 37_000, last: 37_999, stride: 8 },
              // Planned at 1 GiB a cell, a 2 GiB budget holds 2; measured (tens of MiB), it holds many more.
              memoryBudgetBytes: 2 * GiB,
              cellMemoryBytes: GiB,
            },
          },
        },
      }),
    );
    built = await buildGateway(await loadConfig({ path }));
    urls = await built.listen();
  });
  afterAll(async () => {
    for (const connection of open) connection.close();
    await built?.stop();
    await rm(dir, { recursive: true, force: true });
    await install.cleanup();
  });

  const admin = async (path: string) => {
    const response = await fetch(`${urls.adminUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return response.text();
  };

  test('a runtime without the Control UI: the default serves without it, an explicit controlUi: true refuses to start', async () => {
    // This file's gateway started with the default on a fake install that has no Control UI.
    expect(built.gateway).toBeDefined();
    const file = JSON.parse(await readFile(configPath, 'utf8'));
    file.multiTenant.gateway.openclaw.controlUi = true;
    const required = join(dir, 'control-ui-required.json');
    await writeFile(required, JSON.stringify(file));
    const refused = await buildGateway(await loadConfig({ path: required })).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', details: { reason: 'control-ui-missing' } });
  });

  test('the capacity starts from the planned memory per cell, then follows the measured one', async () => {
    expect(built.gateway.manager.capacity).toBe(2);
    const { token } = await built.gateway.manager.tokens.create('costly');
    open.push(await connectGateway({ url: urls.url, token, scopes: ['operator.read'], timeoutMs: 30_000 }));
    const deadline = Date.now() + 30_000;
    while (built.gateway.manager.capacity === 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    // 2 GiB over a measured cell of tens of MiB: dozens, and never over maxCachedUsers.
    expect(built.gateway.manager.capacity).toBeGreaterThan(2);
    expect(built.gateway.manager.capacity).toBeLessThanOrEqual(50);
  });

  /** An admin answer read while the capacity (which follows the measured memory every 200 ms here) did not move. */
  async function unmovedCapacity(read: () => Promise<string>): Promise<{ answer: string; capacity: number }> {
    for (let attempt = 1; ; attempt++) {
      const before = built.gateway.manager.capacity;
      const answer = await read();
      const capacity = built.gateway.manager.capacity;
      if (capacity === before || attempt === 10) return { answer, capacity };
    }
  }

  test("the admin API and /metrics show the cell's memory, CPU and disk", async () => {
    const read = await unmovedCapacity(() => admin('/v1/stats'));
    const stats = JSON.parse(read.answer);
    expect(stats.capacity).toBe(read.capacity);
    expect(stats.cells).toMatchObject({ tenants: 1 });
    expect(stats.cells.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    // Of it, the cell's own: without the Node binary's pages, which the host holds once for every cell.
    expect(stats.cells.anonBytes).toBeGreaterThan(5 * 2 ** 20);
    expect(stats.cells.anonBytes).toBeLessThan(stats.cells.rssBytes);
    expect(stats.cells.perTenant[0]).toMatchObject({ tenantId: 'costly' });
    const tenant = JSON.parse(await admin('/v1/tenants/costly'));
    expect(tenant.usage.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(tenant.usage.diskBytes).toBeGreaterThan(0);
    const { answer: metrics, capacity } = await unmovedCapacity(() => admin('/metrics'));
    expect(metrics).toMatch(/^openclaw_mt_tenant_memory_bytes\{tenant="costly"\} \d+/m);
    expect(metrics).toMatch(/^openclaw_mt_tenant_memory_anon_bytes\{tenant="costly"\} \d+/m);
    expect(metrics).toMatch(/^openclaw_mt_tenant_cpu_seconds\{tenant="costly"\} [\d.]+/m);
    expect(metrics).toMatch(/^openclaw_mt_tenant_disk_bytes\{tenant="costly"\} \d+/m);
    expect(metrics).toMatch(new RegExp(`^openclaw_mt_tenant_capacity ${capacity}$`, 'm'));
  });

  test('stats and users info show the cell costs to the operator', async () => {
    const stats = await run(['stats', '--config', configPath, '--admin-url', urls.adminUrl!], { cwd: dir });
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^cells: +1 running, memory \d+ MiB \(\d+ MiB its own\), CPU [\d.]+ s, disk \d+ MiB$/m);
    expect(stats.stdout).toMatch(/^ {2}costly: memory \d+ MiB \(\d+ MiB its own\), CPU [\d.]+ s, disk \d+ MiB$/m);
    const info = await run(['users', 'info', 'costly', '--config', configPath, '--admin-url', urls.adminUrl!], { cwd: dir });
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^ {2}costs: +memory \d+ MiB \(\d+ MiB its own\), CPU [\d.]+ s, disk \d+ MiB$/m);
  });

  test('the monitor samples the cells and the host', async () => {
    const sample = await built.monitor!.tick();
    expect(sample.cells).toMatchObject({ tenants: 1 });
    expect(sample.host?.totalBytes).toBeGreaterThan(0);
    // A 1 KiB threshold never fires on a working host.
    expect(built.monitor!.activeAlerts().map((alert) => alert.rule)).not.toContain('host-memory');
  });
});
