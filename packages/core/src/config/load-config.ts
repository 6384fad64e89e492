import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
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
} as const;

/** A validated operator configuration whose paths are absolute. */
export type OperatorConfig = MultiTenantConfig & { workspaceRoot: string; configRoot: string; tokenRoot: string };

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
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
      return `${key}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Validates a raw config object (the parsed file) with environment overrides applied. Throws
 * `CONFIG_INVALID` naming every offending key and the expected shape.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): MultiTenantConfig {
  const file = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  if (file === undefined) throw new MultiTenantError('CONFIG_INVALID', 'The config file must contain a JSON object.');
  const block = file.multiTenant === undefined ? {} : file.multiTenant;
  const overridden = typeof block === 'object' && block !== null && !Array.isArray(block) ? { ...(block as Record<string, unknown>) } : block;
  if (typeof overridden === 'object' && overridden !== null && !Array.isArray(overridden)) {
    const target = overridden as Record<string, unknown>;
    if (env[ConfigEnv.serviceToken]) target.serviceToken = env[ConfigEnv.serviceToken];
    if (env[ConfigEnv.cloudBackendUrl]) target.cloudBackendUrl = env[ConfigEnv.cloudBackendUrl];
    if (env[ConfigEnv.peppers]) target.peppers = env[ConfigEnv.peppers]!.split(',').map((pepper) => pepper.trim()).filter(Boolean);
    if (env[ConfigEnv.redisUrl]) target.redis = { ...(target.redis as object | undefined), url: env[ConfigEnv.redisUrl] };
  }
  const parsed = configFileSchema.safeParse({ ...file, multiTenant: overridden });
  if (!parsed.success) {
    throw new MultiTenantError('CONFIG_INVALID', `Invalid configuration: ${describeIssues(parsed.error)}.`, {
      details: { issues: parsed.error.issues.map((issue) => ({ key: issue.path.map(String).join('.'), message: issue.message })) },
    });
  }
  const config = parsed.data.multiTenant;
  if (config.enabled && config.cloudBackendUrl !== undefined && config.serviceToken === undefined) {
    throw new MultiTenantError(
      'CONFIG_INVALID',
      `Invalid configuration: multiTenant.serviceToken: required with cloudBackendUrl (or set ${ConfigEnv.serviceToken}).`,
    );
  }
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
    return { path: undefined, config: resolveConfigPaths(parseConfig({}, env), options.cwd ?? process.cwd()) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new MultiTenantError('CONFIG_INVALID', `The config file ${path} is not valid JSON: ${(error as Error).message}.`, { cause: error });
  }
  return { path, config: resolveConfigPaths(parseConfig(raw, env), dirname(resolve(path))) };
}
