import { spawn } from 'node:child_process';
import { hash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CellConfigFile, cellPaths, enforcedConfig, type JsonObject } from '../config/cell-config.js';
import { signalGroup } from '../os/process-table.js';
import { tenantFileIO } from '../os/tenant-file-io.js';
import { SANDBOX_RUN_DIR, SANDBOX_TENANT_ROOT } from '../sandbox/sandbox-command.js';
import { createPrimedSlot, removePrimedSlot } from '../sandbox/primed-slot.js';
import type { CellSettings } from './cell.js';
import { ACCEPTING_LINE, cellProcess } from './cell-launch.js';
import { insideModelPort } from './cell-models.js';
import { OutputTail } from './output-tail.js';

/** A module OpenClaw's main thread loads as it starts: its URL and format (`module` or `commonjs`). */
export interface PreloadModule {
  url: string;
  format: string;
}

const RECORD_FILE = 'modules.json';

/**
 * The modules an OpenClaw cell's main thread loads until it takes connections, for primed processes to load
 * ahead: recorded once per install (a sandboxed gateway started with the cells' config and no tenant) and
 * kept in `dir`. Only the install's own modules, without the entry (which starts OpenClaw when imported).
 * `signal` ends a recording under way (the runtime is closing).
 */
export async function preloadModules(settings: CellSettings, dir: string, signal: AbortSignal): Promise<PreloadModule[]> {
  const { install } = settings;
  const key = hash('sha256', `${install.dir}\0${install.openclawVersion}\0${install.nodeVersion}`, 'hex').slice(0, 16);
  const cached = join(dir, `${key}.json`);
  try {
    return validModules(JSON.parse(await readFile(cached, 'utf8')), settings);
  } catch {
    // not recorded yet (or unreadable): record again
  }
  const modules = validModules(await recordModules(settings, join(dir, `record-${key}`), signal), settings);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(`${cached}.tmp`, JSON.stringify(modules), { mode: 0o600 });
  await rename(`${cached}.tmp`, cached);
  return modules;
}

/** Keeps what a primed process may load: the install's own modules, not the entry that starts OpenClaw. */
function validModules(value: unknown, settings: CellSettings): PreloadModule[] {
  if (!Array.isArray(value)) throw new Error('the module list is not a list');
  const base = `${pathToFileURL(settings.install.dir).href}/`;
  const entry = pathToFileURL(settings.install.entryPath).href;
  const starts = new Set([entry, new URL('dist/entry.js', entry).href]);
  const seen = new Set<string>();
  return value.filter((item): item is PreloadModule => {
    if (typeof item !== 'object' || item === null) return false;
    const { url, format } = item as Partial<PreloadModule>;
    if (typeof url !== 'string' || !url.startsWith(base) || starts.has(url) || seen.has(url)) return false;
    seen.add(url);
    return format === 'module' || format === 'commonjs';
  });
}

/** Starts a sandboxed gateway that lists the modules it loads, waits until it takes connections, reads the list. */
async function recordModules(settings: CellSettings, root: string, signal: AbortSignal): Promise<unknown> {
  signal.throwIfAborted();
  const slot = await createPrimedSlot(root);
  const port = await settings.ports.allocate();
  try {
    const inside = cellPaths(SANDBOX_TENANT_ROOT);
    // The cells' own config, so OpenClaw loads what a cell loads (no Control UI, the model gateway's providers).
    const providers =
      settings.models === undefined
        ? undefined
        : (settings.models.gateway.cellProviders(
            randomBytes(16).toString('hex'),
            settings.models.origin ?? `http://127.0.0.1:${insideModelPort(port)}`,
          ) as JsonObject);
    await new CellConfigFile(
      tenantFileIO(undefined, settings.install.nodePath),
      join(slot.stateDir, 'openclaw.json'),
      [],
      () => undefined,
    ).render({
      defaults: settings.defaults,
      managed: {},
      enforced: enforcedConfig(inside, providers, settings.httpApis),
    });
    const { file, args, env } = cellProcess({
      settings,
      port,
      inside,
      host: { workspaceDir: slot.workspaceDir, stateDir: slot.stateDir, runDir: slot.runDir },
      credentials: { token: randomBytes(32).toString('base64url') },
      mode: { record: `${SANDBOX_RUN_DIR}/${RECORD_FILE}` },
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
      if (outcome === 'ended') throw new Error(`the recording gateway ended:\n${tail.text([], 8)}`);
      // An OpenClaw that never says it takes connections still loaded its modules by now.
      if (outcome === 'timeout')
        settings.log.warn(
          `The gateway recording OpenClaw's modules did not say it takes connections within ${settings.startTimeoutMs} ms.`,
        );
      child.stdin!.end('{}\n');
      const listed = join(slot.runDir, RECORD_FILE);
      for (let waited = 0; ; waited += 50) {
        try {
          return JSON.parse(await readFile(listed, 'utf8')) as unknown;
        } catch (error) {
          if (waited >= 10_000) throw new Error('the recording gateway wrote no module list', { cause: error });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
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
