import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isPathSpecifier } from '../adapters/load-adapter-module.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { configInvalid, configIssues, type ConfigIssue, type ConfigSectionCheck } from './config-issues.js';
import { configFileSchema, type MultiTenantConfig } from './operator-config.js';

/** Where the seed documents the config file. */
export const DEFAULT_CONFIG_PATH = '/etc/openclaw/config.json';

/** Environment variables read by {@link loadConfig}. Secrets belong here rather than in the file. */
export const ConfigEnv = {
  /** Path of the config file. */
  path: 'OPENCLAW_MT_CONFIG',
  serviceToken: 'OPENCLAW_SERVICE_TOKEN',
  cloudBackendUrl: 'OPENCLAW_CLOUD_BACKEND_URL',
  /** Comma-separated, current first. */
  peppers: 'OPENCLAW_MT_PEPPERS',
  redisUrl: 'OPENCLAW_MT_REDIS_URL',
  /** Comma-separated push secrets, current first (`cloud.push.secrets`). */
  pushSecret: 'OPENCLAW_MT_PUSH_SECRET',
} as const;

/** A validated operator configuration whose paths are absolute. */
export type OperatorConfig = MultiTenantConfig & {
  workspaceRoot: string;
  configRoot: string;
  tokenRoot: string;
  /** The config file's directory (the working directory without a file): adapter packages are looked up from here. */
  configDir?: string;
};

/** A loaded, validated operator configuration. */
export interface LoadedConfig {
  /** The file read, or `undefined` when none existed and built-in defaults apply. */
  path: string | undefined;
  config: OperatorConfig;
}

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Explicit file; must exist. Otherwise `OPENCLAW_MT_CONFIG`, then `/etc/openclaw/config.json` if present. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Base for relative paths when no file is read (default: the working directory). */
  cwd?: string;
  /** The file used when neither `path` nor the environment names one (default `/etc/openclaw/config.json`). */
  defaultPath?: string;
  /** Checks of the sections other packages own (`gateway`, `admin`), so one run names every bad key. */
  sections?: ConfigSections;
}

/** Checks of the `multiTenant` sections the core schema leaves to other packages. */
export type ConfigSections = Partial<Record<'gateway' | 'admin', ConfigSectionCheck>>;

/**
 * Validates a raw config object (the parsed file) with environment overrides applied. Throws
 * `CONFIG_INVALID` naming every offending key and the expected shape, those of `sections` included.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, sections: ConfigSections = {}): MultiTenantConfig {
  const file = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  if (file === undefined) throw new MultiTenantError('CONFIG_INVALID', 'The config file must contain a JSON object.');
  const given = file.multiTenant === undefined ? {} : file.multiTenant;
  const overridden =
    typeof given === 'object' && given !== null && !Array.isArray(given) ? { ...(given as Record<string, unknown>) } : given;
  if (typeof overridden === 'object' && overridden !== null && !Array.isArray(overridden)) {
    const target = overridden as Record<string, unknown>;
    if (env[ConfigEnv.serviceToken]) target.serviceToken = env[ConfigEnv.serviceToken];
    if (env[ConfigEnv.cloudBackendUrl]) target.cloudBackendUrl = env[ConfigEnv.cloudBackendUrl];
    if (env[ConfigEnv.peppers])
      target.peppers = env[ConfigEnv.peppers]!.split(',')
        .map((pepper) => pepper.trim())
        .filter(Boolean);
    if (env[ConfigEnv.redisUrl]) target.redis = { ...(target.redis as object | undefined), url: env[ConfigEnv.redisUrl] };
    if (env[ConfigEnv.pushSecret]) {
      const cloud = typeof target.cloud === 'object' && target.cloud !== null ? (target.cloud as Record<string, unknown>) : {};
      const push = typeof cloud.push === 'object' && cloud.push !== null ? (cloud.push as Record<string, unknown>) : {};
      const secrets = env[ConfigEnv.pushSecret]!.split(',')
        .map((secret) => secret.trim())
        .filter(Boolean);
      target.cloud = { ...cloud, push: { ...push, secrets } };
    }
  }
  const parsed = configFileSchema.safeParse({ ...file, multiTenant: overridden });
  const issues: ConfigIssue[] = parsed.success ? [] : configIssues(parsed.error);
  // Sections are checked even when the core keys fail, so the operator fixes everything in one pass.
  const block = typeof overridden === 'object' && overridden !== null ? (overridden as Record<string, unknown>) : {};
  for (const name of ['gateway', 'admin'] as const) {
    const check = sections[name];
    const section = block[name];
    if (check !== undefined && (section === undefined || (typeof section === 'object' && section !== null && !Array.isArray(section)))) {
      issues.push(...check(section));
    }
  }
  const config = parsed.success ? parsed.data.multiTenant : undefined;
  if (config?.enabled && config.cloudBackendUrl !== undefined && config.serviceToken === undefined) {
    issues.push({ key: 'multiTenant.serviceToken', message: `required with cloudBackendUrl (or set ${ConfigEnv.serviceToken})` });
  }
  if (config === undefined || issues.length > 0) throw configInvalid(issues);
  return config;
}

/** Makes the config's relative paths absolute against `base` and fills in the roots under `dataDir`. */
export function resolveConfigPaths(config: MultiTenantConfig, base: string): OperatorConfig {
  const abs = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const dataDir = abs(config.dataDir);
  return {
    ...config,
    dataDir,
    workspaceRoot: config.workspaceRoot ? abs(config.workspaceRoot) : resolve(dataDir, 'workspaces'),
    configRoot: config.configRoot ? abs(config.configRoot) : resolve(dataDir, 'configs'),
    tokenRoot: config.tokenRoot ? abs(config.tokenRoot) : resolve(dataDir, 'tokens'),
    ...(config.templatePath ? { templatePath: abs(config.templatePath) } : {}),
    configDir: resolve(base),
    adapter:
      typeof config.adapter === 'object' && isPathSpecifier(config.adapter.module)
        ? { ...config.adapter, module: abs(config.adapter.module) }
        : config.adapter,
  };
}

/**
 * Loads the operator configuration: the file from `path`, else `OPENCLAW_MT_CONFIG`, else
 * `/etc/openclaw/config.json` when it exists, else built-in defaults (the embedded fs adapter under
 * `./.openclaw-mt/`). Environment variables override secrets. Relative paths in a file are resolved
 * against the file's directory. Throws `CONFIG_INVALID` for unreadable, malformed or invalid files.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const explicit = options.path ?? (env[ConfigEnv.path] || undefined);
  const path = explicit ?? options.defaultPath ?? DEFAULT_CONFIG_PATH;
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (explicit !== undefined || code !== 'ENOENT') {
      throw new MultiTenantError('CONFIG_INVALID', `Cannot read the config file ${path} (${code ?? 'error'}).`, { cause: error });
    }
  }
  if (text === undefined) {
    return { path: undefined, config: resolveConfigPaths(parseConfig({}, env, options.sections), options.cwd ?? process.cwd()) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new MultiTenantError('CONFIG_INVALID', `The config file ${path} is not valid JSON: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  return { path, config: resolveConfigPaths(parseConfig(raw, env, options.sections), dirname(resolve(path))) };
}
