import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CellConfigFile, cellPaths, enforcedConfig, type JsonObject } from '../config/cell-config.js';
import { signalGroup } from '../os/process-table.js';
import { tenantFileIO } from '../os/tenant-file-io.js';
import { SANDBOX_TENANT_ROOT } from '../sandbox/sandbox-command.js';
import { createPrimedSlot, removePrimedSlot, type PrimedSlot } from '../sandbox/primed-slot.js';
import type { CellSettings } from './cell.js';
import { ACCEPTING_LINE, cellProcess, type CellProcessSpec } from './cell-launch.js';
import { cellProviderConfig, insideModelPort } from './cell-models.js';
import { OutputTail } from './output-tail.js';

/** A tenantless gateway that takes connections (or was given its start timeout to). */
export interface TenantlessGateway {
  slot: PrimedSlot;
  child: ChildProcess;
  /** Resolves when its process has ended. */
  exited: Promise<void>;
  /** Its latest output lines, for errors. */
  output(): string;
}

/**
 * Runs a sandboxed OpenClaw gateway with the cells' own config and no tenant (no credential, placeholder
 * directories under `root`) until it says it takes connections, hands it to `use`, then kills it and removes
 * its slot: how the install's once-only recordings see what every cell loads. `signal` ends it at once.
 */
export async function withTenantlessGateway<T>(
  settings: CellSettings,
  root: string,
  signal: AbortSignal,
  launch: Pick<CellProcessSpec, 'mode' | 'compileCache'>,
  use: (gateway: TenantlessGateway) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const slot = await createPrimedSlot(root, typeof launch.compileCache === 'object' ? launch.compileCache : undefined);
  const port = await settings.ports.allocate();
  try {
    const inside = cellPaths(SANDBOX_TENANT_ROOT);
    // The cells' own config, so OpenClaw loads what a cell loads (no Control UI, the model gateway's providers).
    await settings.modelsReady;
    const providers =
      settings.models === undefined
        ? undefined
        : (cellProviderConfig(
            settings.models.gateway,
            settings.models.origin ?? `http://127.0.0.1:${insideModelPort(port)}`,
          ) as JsonObject);
    await new CellConfigFile(
      tenantFileIO(undefined, settings.install.nodePath),
      join(slot.stateDir, 'openclaw.json'),
      [],
      () => undefined,
    ).render({ defaults: settings.defaults, managed: {}, enforced: enforcedConfig(inside, providers, settings.httpApis) });
    // Closed while the slot, port and config were made: an abort listener added below would never fire, and the
    // gateway would run until its start timeout. From here to that listener nothing awaits.
    signal.throwIfAborted();
    const { file, args, env } = cellProcess({
      settings,
      port,
      inside,
      host: { workspaceDir: slot.workspaceDir, stateDir: slot.stateDir, runDir: slot.runDir },
      credentials: { token: randomBytes(32).toString('base64url'), modelKey: randomBytes(16).toString('hex') },
      ...launch,
    });
    const child = spawn(file, args, { cwd: slot.root, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const tail = new OutputTail();
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const abort = () => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL');
    signal.addEventListener('abort', abort, { once: true });
    try {
      const outcome = await new Promise<'accepting' | 'timeout' | 'ended'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), settings.startTimeoutMs);
        const onOutput = (chunk: Buffer) => {
          if (tail.push(chunk).some((line) => ACCEPTING_LINE.test(line))) resolve('accepting');
        };
        child.stdout!.on('data', onOutput);
        child.stderr!.on('data', onOutput);
        child.once('error', () => resolve('ended'));
        void exited.then(() => resolve('ended'));
        void exited.finally(() => clearTimeout(timer));
      });
      signal.throwIfAborted();
      if (outcome === 'ended') throw new Error(`the tenantless gateway ended:\n${tail.text([], 8)}`);
      // An OpenClaw that never says it takes connections still loaded its modules by now.
      if (outcome === 'timeout')
        settings.log.warn(`A tenantless OpenClaw gateway did not say it takes connections within ${settings.startTimeoutMs} ms.`);
      return await use({ slot, child, exited, output: () => tail.text([], 8) });
    } finally {
      signal.removeEventListener('abort', abort);
      // A process that never started has nothing to wait for.
      if (child.pid !== undefined) {
        signalGroup(child.pid, 'SIGKILL');
        await exited;
      }
    }
  } finally {
    settings.ports.release(port);
    await removePrimedSlot(root);
  }
}
