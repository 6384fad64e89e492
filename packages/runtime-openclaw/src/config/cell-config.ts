import { isDeepStrictEqual } from 'node:util';
import { dirname, join } from 'node:path';
import { MultiTenantError, type JsonValue, type TenantConfig } from '@openclaw-mt/core';
import { WorkspaceLayout, mergeTenantConfig } from '@openclaw-mt/core/contracts';
import { parseJson5 } from './json5.js';
import type { TenantFileIO } from '../os/tenant-file-io.js';
import { httpApiConfig, type HttpApiSettings } from '../http-api/http-apis.js';

/** A JSON object (an OpenClaw config or a part of one). */
export type JsonObject = { [key: string]: JsonValue };

/** Where a cell keeps what, inside the tenant's root. */
export interface CellPaths {
  root: string;
  /** `OPENCLAW_WORKSPACE_DIR`: `<root>/workspace`. */
  workspaceDir: string;
  /** `OPENCLAW_STATE_DIR`: `<root>/agent` (config, SQLite state, credentials, logs). */
  stateDir: string;
  /** `OPENCLAW_CONFIG_PATH`. */
  configPath: string;
  /** `HOME` of the cell (caches its tools write). */
  homeDir: string;
  /** `TMPDIR` of the cell. */
  tmpDir: string;
  logDir: string;
}

/** The layout of a cell in a tenant root. */
export function cellPaths(root: string): CellPaths {
  const stateDir = join(root, WorkspaceLayout.agent);
  return {
    root,
    workspaceDir: join(root, WorkspaceLayout.workspace),
    stateDir,
    configPath: join(stateDir, 'openclaw.json'),
    homeDir: join(stateDir, 'home'),
    tmpDir: join(stateDir, 'tmp'),
    logDir: join(stateDir, 'logs'),
  };
}

/** Keys of an OpenClaw model provider that decide where its requests go and with which credentials. */
export const PROVIDER_ROUTING_KEYS: readonly string[] = ['baseUrl', 'apiKey', 'auth', 'authHeader', 'headers', 'request', 'localService'];

/**
 * Config paths a tenant may not change through the front door (dot-separated, `*` for any key): the
 * gateway section, the log file, the chat commands that would write config, install plugins, update
 * or restart the cell from a chat message (around the method policy), and where every model
 * provider sends its requests and with which credentials.
 */
export const DEFAULT_LOCKED_CONFIG_PATHS: readonly string[] = [
  'gateway',
  'logging.file',
  'commands.config',
  'commands.plugins',
  'commands.debug',
  'commands.restart',
  // Where a provider's requests go and what credentials they carry: a tenant who could point a
  // provider elsewhere would receive its key. Per-model `baseUrl` / `headers` override the provider's.
  ...PROVIDER_ROUTING_KEYS.map((key) => `models.providers.*.${key}`),
  'models.providers.*.models.*.baseUrl',
  'models.providers.*.models.*.headers',
];

/**
 * Defaults below the operator's: no update checks against the internet from every cell, no device-pairing plugin and
 * no recurring heartbeat. That plugin pairs nodes and phones with the cell's own address (a private loopback port
 * behind the front door, which refuses role `node`) and polls the tenant's state every 10 s to announce pairing
 * requests that cannot come. OpenClaw's heartbeat is a model turn in the main session every 30 minutes (the first
 * somewhere in a new cell's first half hour) that nobody asked for: paid for with the operator's key, and in a
 * pre-booted cell a call held on its reserved credential that fails and is retried for as long as the cell waits.
 */
const BUILT_IN_DEFAULTS: JsonObject = {
  update: { checkOnStart: false },
  plugins: { entries: { 'device-pair': { enabled: false } } },
  agents: { defaults: { heartbeat: { every: '0m' } } },
};

/**
 * Keys every cell's config gets, whatever the layers below say: a local gateway (port, bind and auth
 * come from the command line and environment, which win over the file even across in-place
 * restarts) that does not serve the Control UI itself (the front door serves it from the install; a
 * cell serving it too would copy its 54 MB of assets into every tenant's state and check them after
 * every start), a log file inside the tenant's own state directory instead of OpenClaw's shared
 * `/tmp/openclaw`, the model gateway as every provider's URL and key (when one is wired), no chat
 * commands that write config (`/config`, `/debug`), install plugins (`/plugins`) or update and
 * restart the cell (`/update`, `/restart`), and OpenClaw's HTTP surfaces exactly as the operator
 * enabled them (hooks with the cell's own token, by environment).
 */
export function enforcedConfig(paths: CellPaths, providers?: JsonObject, httpApis: HttpApiSettings = {}): JsonObject {
  const http = httpApiConfig(httpApis);
  return {
    gateway: { mode: 'local', controlUi: { enabled: false }, ...(http.gateway as JsonObject) },
    hooks: http.hooks!,
    logging: { file: join(paths.logDir, 'openclaw.log') },
    commands: { config: false, plugins: false, debug: false, restart: false },
    // The model gateway's address and this cell's credential: no layer can point a provider elsewhere.
    ...(providers === undefined ? {} : { models: { providers } }),
  };
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The OpenClaw config a tenant's own config carries under `key` (`CONFIG_INVALID` unless an object). */
export function managedConfigOf(config: TenantConfig, key: string): JsonObject {
  const value = config[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value))
    throw new MultiTenantError('CONFIG_INVALID', `Tenant config "${key}": expected an object of OpenClaw config keys.`, {
      details: { key },
    });
  return value;
}

function getAt(config: JsonValue, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = config;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function setAt(config: JsonObject, path: readonly string[], value: JsonValue): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return config;
  const child = config[head];
  return { ...config, [head]: rest.length === 0 ? value : setAt(isObject(child) ? child : {}, rest, value) };
}

/** The layers of a cell's config, lowest first. */
export interface ConfigLayers {
  /** Operator defaults, written on the first start; the tenant may change them afterwards. */
  defaults: JsonObject;
  /** The tenant's `openclaw` config (operator defaults merged with the tenant's own), re-applied at every start. */
  managed: JsonObject;
  /** Keys no layer can override. */
  enforced: JsonObject;
}

/** The config a cell starts with: built-in defaults < operator defaults < the file as the tenant left it < managed < enforced. */
export function renderCellConfig(current: JsonObject, layers: ConfigLayers): JsonObject {
  let out = mergeTenantConfig(BUILT_IN_DEFAULTS, layers.defaults) as JsonObject;
  out = mergeTenantConfig(out, current) as JsonObject;
  out = mergeTenantConfig(out, layers.managed) as JsonObject;
  return mergeTenantConfig(out, layers.enforced) as JsonObject;
}

/**
 * `current` without the keys an earlier managed layer set and the new one no longer has: managed
 * keys the operator removed leave the file too (the file cannot tell them from the tenant's own).
 */
function withoutDropped(current: JsonObject, previous: JsonObject, next: JsonObject): JsonObject {
  let out = current;
  for (const [key, before] of Object.entries(previous)) {
    const after = next[key];
    if (after === undefined) {
      if (Object.hasOwn(out, key)) {
        out = { ...out };
        delete out[key];
      }
      continue;
    }
    const here = out[key];
    if (isObject(before) && isObject(after) && isObject(here)) {
      const inner = withoutDropped(here, before, after);
      if (inner !== here) out = { ...out, [key]: inner };
    }
  }
  return out;
}

/** Reads and writes a cell's config file with the tenant's permissions. */
export class CellConfigFile {
  /** The config as last written, for comparing locked keys. */
  rendered: JsonObject = {};

  private readonly managedPath: string;

  constructor(
    private readonly io: TenantFileIO,
    private readonly path: string,
    private readonly lockedPaths: readonly string[],
    private readonly onUnreadable: (backup: string, reason: string) => void,
  ) {
    this.managedPath = join(dirname(path), '.openclaw-mt-managed.json');
  }

  /** The managed layer last applied (kept beside the config, to notice keys the operator removed). */
  private async previousManaged(): Promise<JsonObject> {
    try {
      const value = JSON.parse((await this.io.read(this.managedPath)) ?? '{}') as JsonValue;
      return isObject(value) ? value : {};
    } catch {
      return {};
    }
  }

  private async current(): Promise<JsonObject> {
    const text = await this.io.read(this.path);
    if (text === undefined || text.trim() === '') return {};
    try {
      const value = parseJson5(text);
      if (!isObject(value)) throw new Error('not an object');
      return value;
    } catch (error) {
      // Never lock a tenant out of its gateway over a file it broke: keep it aside and start over.
      const backup = `${this.path}.unreadable-${Date.now()}`;
      await this.io.write(backup, text);
      this.onUnreadable(backup, (error as Error).message);
      return {};
    }
  }

  /** Renders the layers over the file and writes it when it changed; returns whether it did. */
  async render(layers: ConfigLayers): Promise<boolean> {
    const [current, previous] = await Promise.all([this.current(), this.previousManaged()]);
    const next = renderCellConfig(withoutDropped(current, previous, layers.managed), layers);
    this.rendered = next;
    if (!isDeepStrictEqual(previous, layers.managed)) await this.io.write(this.managedPath, `${JSON.stringify(layers.managed)}\n`);
    if (isDeepStrictEqual(current, next)) return false;
    await this.io.write(this.path, `${JSON.stringify(next, null, 2)}\n`);
    return true;
  }

  /** Puts the locked keys back as last rendered (after a tenant replaced the whole file); returns whether it wrote. */
  async restoreLocked(): Promise<boolean> {
    const current = await this.current();
    let next = current;
    for (const locked of this.lockedPaths) {
      const path = locked.split('.');
      const value = getAt(this.rendered, path);
      if (value !== undefined && !isDeepStrictEqual(getAt(next, path), value)) next = setAt(next, path, value);
    }
    if (next === current) return false;
    await this.io.write(this.path, `${JSON.stringify(next, null, 2)}\n`);
    return true;
  }
}
