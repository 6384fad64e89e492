import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { sandboxSupport } from '@openclaw-mt/runtime-openclaw';
import {
  connectRetrying,
  createFakeInstall,
  FAKE_SPAWN_BROKER_ENTRY,
  FAKE_SPAWN_BROKER_SOURCE,
  startOpenClawGateway,
  type OpenClawHarness,
} from './support/harness.js';

// The default (no spawn broker: its entry is empty in the sandbox) is checked with the other sandbox tests.
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;
const TENANT = 'broker-dana';

describe.skipIf(!canSandbox)("OpenClaw's spawn broker in a sandboxed cell", () => {
  let install: Awaited<ReturnType<typeof createFakeInstall>> | undefined;
  let h: OpenClawHarness | undefined;
  afterEach(async () => {
    await h?.stop();
    await install?.cleanup();
  });

  /** Starts one sandboxed cell; returns the size of the broker's entry as OpenClaw saw it, if the release has one. */
  const startCell = async (options: { spawnBroker?: boolean; releaseHasBroker: boolean }): Promise<string | undefined> => {
    install = await createFakeInstall({ selfContained: true });
    if (!options.releaseHasBroker) rmSync(join(install.dir, FAKE_SPAWN_BROKER_ENTRY));
    const spawnBroker = options.spawnBroker === undefined ? {} : { spawnBroker: options.spawnBroker };
    h = await startOpenClawGateway({ runtime: { install: install.dir, sandbox: true, osUsers: false, ...spawnBroker } });
    const token = await h.tenant(TENANT, { fake: { reportSpawnBroker: options.releaseHasBroker } });
    const connection = await connectRetrying({ url: h.url, token }, 60_000);
    // Answered by the cell's OpenClaw, not the front door: it started.
    await expect(connection.request('echo', { started: true }, { timeoutMs: 60_000 })).resolves.toMatchObject({ started: true });
    connection.close();
    const report = join(h.dataDir, 'workspaces', tenantDirName(TENANT), 'agent', 'fake-spawn-broker');
    return options.releaseHasBroker ? readFileSync(report, 'utf8') : undefined;
  };

  it('is left to OpenClaw with spawnBroker: true', async () => {
    expect(await startCell({ spawnBroker: true, releaseHasBroker: true })).toBe(String(FAKE_SPAWN_BROKER_SOURCE.length));
  });

  it('changes nothing for a release without one: the cell starts, and the install gets no such file', async () => {
    await startCell({ releaseHasBroker: false });
    expect(existsSync(join(install!.dir, FAKE_SPAWN_BROKER_ENTRY))).toBe(false);
  });
});
