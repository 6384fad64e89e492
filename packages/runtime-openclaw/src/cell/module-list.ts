import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installKey } from '../install/install-key.js';
import { SANDBOX_RUN_DIR } from '../sandbox/sandbox-command.js';
import type { CellSettings } from './cell.js';
import { withTenantlessGateway } from './tenantless-gateway.js';

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
  const key = installKey(settings.install);
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

/** Starts a tenantless gateway that lists the modules it loads until it takes connections, then reads the list. */
async function recordModules(settings: CellSettings, root: string, signal: AbortSignal): Promise<unknown> {
  const compileCache = settings.compileCache?.current;
  const launch = { mode: { record: `${SANDBOX_RUN_DIR}/${RECORD_FILE}` }, ...(compileCache === undefined ? {} : { compileCache }) };
  return withTenantlessGateway(settings, root, signal, launch, async ({ slot, child }) => {
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
  });
}
