import { MultiTenantError } from '@openclaw-mt/core';
import { z } from 'zod';
import { capacityForMemoryBudget, DEFAULT_CELL_MEMORY_BYTES } from './capacity.js';
import type { JsonObject } from './cell-config.js';
import type { OpenClawRuntimeOptions } from './openclaw-runtime.js';

const ms = z.int().positive();
const port = z.int().min(1024).max(65_535);

/**
 * The `multiTenant.gateway.openclaw` block of the operator config file: the `openclaw` runtime's
 * options in JSON form, plus a memory budget that sets the manager's capacity.
 */
export const openClawRuntimeSettingsSchema = z.strictObject({
  /** Install directory (default: `$OPENCLAW_MT_RUNTIME_DIR`, else the per-user cache). */
  runtimeDir: z.string().min(1).optional(),
  /** Operator defaults for every cell's OpenClaw config. */
  config: z.record(z.string(), z.json()).optional(),
  configKey: z.string().min(1).optional(),
  methods: z.strictObject({ allow: z.array(z.string().min(1)).optional(), deny: z.array(z.string().min(1)).optional() }).optional(),
  lockedConfigPaths: z.array(z.string().regex(/^[^.]+(\.[^.]+)*$/, 'dot-separated keys')).optional(),
  scopes: z.array(z.string().min(1)).optional(),
  env: z.record(z.string(), z.string()).optional(),
  osUsers: z.union([z.literal('auto'), z.boolean()]).optional(),
  ports: z.strictObject({ first: port.optional(), last: port.optional(), stride: z.int().positive().optional() }).optional(),
  coldStartWaitMs: ms.optional(),
  startTimeoutMs: ms.optional(),
  stopTimeoutMs: ms.optional(),
  restart: z
    .strictObject({ initialDelayMs: ms.optional(), maxDelayMs: ms.optional(), maxAttempts: z.int().positive().optional(), stableAfterMs: ms.optional() })
    .optional(),
  /** Keep a spare, authenticated connection to each ready cell for the next client (default true). */
  spareConnections: z.boolean().optional(),
  spareMaxAgeMs: ms.optional(),
  /** Memory for cells, in bytes: sets the manager's capacity (see `capacityForMemoryBudget`). */
  memoryBudgetBytes: z.number().positive().optional(),
  /** Memory one cell needs, in bytes (default 1 GiB). */
  cellMemoryBytes: z.number().positive().optional(),
});

/** Validated `openclaw` runtime settings. */
export type OpenClawRuntimeSettings = z.output<typeof openClawRuntimeSettingsSchema>;

/** Validates the block; throws `CONFIG_INVALID` naming each bad key. */
export function parseOpenClawRuntimeSettings(raw: unknown): OpenClawRuntimeSettings {
  const parsed = openClawRuntimeSettingsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `multiTenant.gateway.openclaw.${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new MultiTenantError('CONFIG_INVALID', `Invalid configuration: ${problems}.`);
  }
  return parsed.data;
}

/**
 * Runtime options from validated settings, and the manager capacity the memory budget allows (when
 * a budget is set; the operator's `maxCachedUsers` applies otherwise).
 */
export function openClawRuntimeOptionsFromSettings(settings: OpenClawRuntimeSettings): { options: OpenClawRuntimeOptions; capacity: number | undefined } {
  const { runtimeDir, memoryBudgetBytes, cellMemoryBytes, config, ...rest } = settings;
  const options = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as OpenClawRuntimeOptions;
  if (runtimeDir !== undefined) options.install = runtimeDir;
  if (config !== undefined) options.config = config as JsonObject;
  const capacity = memoryBudgetBytes === undefined ? undefined : capacityForMemoryBudget(memoryBudgetBytes, cellMemoryBytes ?? DEFAULT_CELL_MEMORY_BYTES);
  return { options, capacity };
}
