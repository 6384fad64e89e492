import { MultiTenantError } from '../errors/multi-tenant-error.js';
import type { JsonValue, TenantConfig, TenantConfigEntry } from '../contracts/config-source.js';
import { tenantIdProblem } from '../tenants/tenant-id.js';

/** Largest serialised tenant config accepted, in bytes. */
export const MAX_TENANT_CONFIG_BYTES = 256 * 1024;
/** Deepest nesting accepted in a tenant config. */
export const MAX_TENANT_CONFIG_DEPTH = 32;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const STATUSES = new Set(['active', 'suspended', 'deleted']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function jsonProblem(value: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_TENANT_CONFIG_DEPTH) return `${path}: nested deeper than ${MAX_TENANT_CONFIG_DEPTH} levels`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path}: numbers must be finite`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${path}[${i}]`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return `${path}: expected JSON (string, number, boolean, null, array or object)`;
  for (const [key, item] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `${path}.${key}: this key is not allowed`;
    const problem = jsonProblem(item, `${path}.${key}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Why `value` is not an acceptable tenant config (a plain JSON object within size and depth limits). */
export function tenantConfigProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'config: expected a JSON object';
  const problem = jsonProblem(value, 'config', 0);
  if (problem !== undefined) return problem;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_TENANT_CONFIG_BYTES) return `config: ${bytes} bytes exceeds the limit of ${MAX_TENANT_CONFIG_BYTES}`;
  return undefined;
}

/** Returns `value` if it is an acceptable tenant config, else throws `CONFIG_INVALID` naming the key. */
export function assertTenantConfig(value: unknown): TenantConfig {
  const problem = tenantConfigProblem(value);
  if (problem !== undefined)
    throw new MultiTenantError('CONFIG_INVALID', `Invalid tenant config: ${problem}.`, { details: { reason: problem } });
  return value as TenantConfig;
}

/** Why `value` is not a valid {@link TenantConfigEntry}, or `undefined`. */
export function configEntryProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'entry: expected an object';
  const entry = value as Partial<TenantConfigEntry>;
  const idProblem = tenantIdProblem(entry.tenantId);
  if (idProblem !== undefined) return `tenantId: ${idProblem}`;
  if (!STATUSES.has(entry.status as string)) return 'status: expected active, suspended or deleted';
  if (typeof entry.version !== 'number' || !Number.isSafeInteger(entry.version) || entry.version < 1) {
    return 'version: expected a positive integer';
  }
  if (typeof entry.updatedAt !== 'number' || !Number.isSafeInteger(entry.updatedAt) || entry.updatedAt < 0) {
    return 'updatedAt: expected epoch milliseconds';
  }
  return tenantConfigProblem(entry.config);
}

/** Returns `value` if it is a valid {@link TenantConfigEntry}, else throws `CONFIG_INVALID`. */
export function assertConfigEntry(value: unknown): TenantConfigEntry {
  const problem = configEntryProblem(value);
  if (problem !== undefined)
    throw new MultiTenantError('CONFIG_INVALID', `Invalid config entry: ${problem}.`, { details: { reason: problem } });
  return value as TenantConfigEntry;
}

/**
 * Merges a tenant's config over the operator's defaults: objects merge key by key, everything else
 * (arrays included) is replaced. Inputs are never mutated.
 */
export function mergeTenantConfig(defaults: TenantConfig, override: TenantConfig): TenantConfig {
  return mergeObjects(defaults, override) as TenantConfig;
}

function mergeObjects(base: { [key: string]: JsonValue }, over: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeObjects(current, value) : value;
  }
  return out;
}
