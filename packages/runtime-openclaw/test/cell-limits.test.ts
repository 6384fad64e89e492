import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import type { OpenClawRuntimeOptions } from '@openclaw-mt/runtime-openclaw';
import { connectRetrying, createFakeInstall, eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { failureOf } from '../../gateway/test/support/request-failure.js';

// Disk quota and memory admission against a fake `openclaw` entry (a real Node process per cell).

const quiet = createLogger({ level: Number(process.env.TEST_LOG_LEVEL ?? 0) });
const MiB = 2 ** 20;
const SCOPES = ['operator.read', 'operator.write'];

describe('cell limits (fake cell)', () => {
  let install: { dir: string; cleanup: () => Promise<void> };
  let h: OpenClawHarness | undefined;
  const open: GatewayConnection[] = [];

  beforeAll(async () => {
    install = await createFakeInstall();
  });
  afterAll(async () => {
    await install.cleanup();
  });
  afterEach(async () => {
    for (const connection of open.splice(0)) connection.close();
    await h?.stop();
    h = undefined;
  });

  async function start(runtime: Partial<OpenClawRuntimeOptions>, workspaceBytes?: number): Promise<OpenClawHarness> {
    h = await startOpenClawGateway({
      runtime: { install: install.dir, osUsers: false, ports: { first: 35_000, last: 36_999, stride: 8 }, logger: quiet, ...runtime },
      ...(workspaceBytes === undefined ? {} : { gateway: { quotas: { workspaceBytes } } }),
    });
    return h;
  }

  async function connect(token: string): Promise<GatewayConnection> {
    const connection = await connectRetrying({ url: h!.url, token, scopes: SCOPES }, 30_000);
    open.push(connection);
    return connection;
  }

  it('a cell whose tenant writes past its quota is stopped, its clients closed with 1013, and it is refused until back under', async () => {
    const { tenant, runtime } = await start({ diskCheckIntervalMs: 100 }, 3 * MiB);
    const token = await tenant('alice');
    const alice = await connect(token);
    expect(runtime.cells()[0]!.state).toBe('ready');
    const big = join(h!.dataDir, 'workspaces', tenantDirName('alice'), 'workspace', 'big.bin');
    await writeFile(big, Buffer.alloc(4 * MiB, 1));
    expect(await alice.closed).toEqual({ code: 1013, reason: 'workspace quota exceeded' });
    await eventually(() => runtime.cells()[0]!.state === 'stopped', 'the cell stopped');
    const refused = await failureOf(connectGateway({ url: h!.url, token, scopes: SCOPES }));
    expect(refused.shape).toMatchObject({
      code: 'UNAVAILABLE',
      details: { code: 'QUOTA_EXCEEDED', quota: 'workspaceBytes', limit: 3 * MiB },
    });
    await rm(big);
    const again = await connect(token);
    expect(await again.request('health')).toBeDefined();
    expect(runtime.cells()[0]!.state).toBe('ready');
  });

  it('a tenant already over its quota gets no cell at all', async () => {
    const { tenant, runtime, manager } = await start({}, 1 * MiB);
    const token = await tenant('bob');
    const workspace = await manager.stores.workspaces.open('bob');
    await writeFile(join(workspace.directory!, 'big.bin'), Buffer.alloc(2 * MiB, 1));
    await workspace.close();
    const refused = await failureOf(connectGateway({ url: h!.url, token, scopes: SCOPES }));
    expect(refused.shape.details).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'workspaceBytes' });
    expect(runtime.cells()).toEqual([]);
  });

  it('a cell that would not fit the memory budget is refused with a retryable CAPACITY', async () => {
    // Planned at 1 MiB, the first cell fits 10 MiB; measured (a Node process: tens of MiB), the next one does not.
    const { tenant, runtime } = await start({ cellMemoryBytes: 1 * MiB, memoryBudgetBytes: 10 * MiB });
    await connect(await tenant('carol'));
    expect(await runtime.measuredCellMemory()).toBeGreaterThan(10 * MiB);
    const refused = await failureOf(connectGateway({ url: h!.url, token: await tenant('dave'), scopes: SCOPES }));
    expect(refused.shape).toMatchObject({ retryable: true, details: { code: 'CAPACITY', reason: 'memory-budget' } });
    expect(runtime.cells().map((cell) => cell.tenantId)).toEqual(['carol']);
  });

  it("counts the cells against the budget at their own memory, not at the RSS that counts Node's binary in each", async () => {
    // What one fake cell (a Node process) holds, both ways.
    let { tenant, runtime } = await start({});
    await connect(await tenant('probe'));
    const [probe] = await runtime.cellUsage();
    const shared = probe!.rssBytes - probe!.anonBytes;
    expect(shared).toBeGreaterThan(8 * MiB);
    for (const connection of open.splice(0)) connection.close();
    await h!.stop();
    // A budget for two cells at their own memory, with half the binary's pages to spare; at their RSS it holds one.
    ({ tenant, runtime } = await start({ cellMemoryBytes: 1 * MiB, memoryBudgetBytes: 2 * probe!.anonBytes + shared / 2 }));
    await connect(await tenant('frank'));
    expect(await runtime.measuredCellMemory()).toBeLessThan(probe!.anonBytes + shared / 4);
    await connect(await tenant('grace'));
    expect(runtime.cells().map((cell) => cell.tenantId)).toEqual(['frank', 'grace']);
  });

  it('a cell that would leave the host too little memory is refused with a retryable CAPACITY', async () => {
    const { tenant, runtime } = await start({ cellMemoryBytes: 100 * MiB, hostMemoryReserveBytes: 2 ** 50 });
    const refused = await failureOf(connectGateway({ url: h!.url, token: await tenant('erin'), scopes: SCOPES }));
    expect(refused.shape).toMatchObject({ retryable: true, details: { code: 'CAPACITY', reason: 'host-memory' } });
    expect(runtime.cells()).toEqual([]);
  });
});
