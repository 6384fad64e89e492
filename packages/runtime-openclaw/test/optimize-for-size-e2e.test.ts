import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { deleteTenantUser, defaultRuntimeDir, installOpenClawRuntime, type InstallRuntimeResult } from '@openclaw-mt/runtime-openclaw';
import { connectRetrying, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { takeRealCellsTurn } from './support/real-cells-turn.js';

// Two front doors over real OpenClaw, alike but for `optimizeForSize`, each with one sandboxed tenant started at
// the same time: the cell whose V8 was asked to favour memory once OpenClaw listened must idle well below the other.

const MiB = 2 ** 20;
/** Quiet time after the first reply before memory is read: what an idle cell settles at. */
const IDLE_MS = 20_000;
/** The saving measured is 65–80 MiB per idle cell; runs of one setting differ by ±10 MiB. */
const AT_LEAST_SAVED = 30 * MiB;
const log = createLogger({ tag: 'openclaw-size-e2e', level: Number(process.env.TEST_LOG_LEVEL ?? 3) });

describe('real OpenClaw cells asked to favour memory once they listen', { timeout: 600_000 }, () => {
  let install: InstallRuntimeResult;
  const doors: Record<'lean' | 'plain', OpenClawHarness | undefined> = { lean: undefined, plain: undefined };

  let endTurn: (() => Promise<void>) | undefined;
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    install = await installOpenClawRuntime({ dir: defaultRuntimeDir() });
    const door = (optimizeForSize: boolean, first: number) =>
      startOpenClawGateway({
        runtime: { install, sandbox: true, optimizeForSize, ports: { first, last: first + 999 }, helloHoldMs: 120_000 },
        manager: { capacity: 1 },
      });
    doors.lean = await door(true, 56_000);
    doors.plain = await door(false, 57_000);
  }, 1_800_000);

  afterAll(async () => {
    for (const h of Object.values(doors)) {
      await h?.stop();
      if (h !== undefined) await deleteTenantUser('dana', join(h.dataDir, 'workspaces', tenantDirName('dana'))).catch(() => undefined);
    }
  }, 120_000);

  it('an idle cell holds tens of MiB less with optimizeForSize, and answers as before', async () => {
    const [lean, plain] = [doors.lean!, doors.plain!];
    // One tenant id on both: the same work, started at once, so only the setting differs.
    const connect = async (h: OpenClawHarness) => {
      const connection = await connectRetrying({ url: h.url, token: await h.tenant('dana'), scopes: ['operator.read'] });
      await connection.request('sessions.list', {}, { timeoutMs: 120_000 });
      return connection;
    };
    const connections = await Promise.all([connect(lean), connect(plain)]);
    const [cell] = lean.runtime.cells();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const [leanBytes, plainBytes] = await Promise.all([lean.runtime.cellMemory('dana'), plain.runtime.cellMemory('dana')]);
    log.info(`idle cell tree: ${Math.round(leanBytes / MiB)} MiB with optimizeForSize, ${Math.round(plainBytes / MiB)} MiB without`);
    expect(plainBytes).toBeGreaterThan(0);
    expect(leanBytes).toBeLessThan(plainBytes - AT_LEAST_SAVED);
    // The same process keeps answering.
    await connections[0].request('sessions.list', {}, { timeoutMs: 30_000 });
    expect(lean.runtime.cells()).toEqual([expect.objectContaining({ pid: cell!.pid, crashes: 0, state: 'ready' })]);
    for (const connection of connections) connection.close();
  });
});
