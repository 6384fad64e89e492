import { z } from 'zod';
import { tenantConfigProblem } from './tenant-config.js';

const milliseconds = z.int().nonnegative();
const positiveInt = z.int().positive();

const tenantConfigSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const problem = tenantConfigProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * The `multiTenant` block of `/etc/openclaw/config.json`: the seed's keys (`enabled`,
 * `cloudBackendUrl`, `serviceToken`, `maxCachedUsers`, `userIdleTimeoutMs`, `syncIntervalMs`,
 * `workspaceRoot`, `configRoot`, `templatePath`) plus openclaw-mt's own. Unknown keys are errors,
 * so a typo never silently falls back to a default.
 */
export const multiTenantConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  cloudBackendUrl: z.url({ protocol: /^https?$/ }).optional(),
  serviceToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Tuning of the Cloud Backend client (used only with `cloudBackendUrl`). */
  cloud: z
    .strictObject({
      timeoutMs: positiveInt.optional(),
      outageGraceMs: milliseconds.optional(),
      pageLimit: z.int().min(1).max(1_000).optional(),
    })
    .prefault({}),
  maxCachedUsers: positiveInt.default(100),
  userIdleTimeoutMs: milliseconds.default(30 * 60_000),
  syncIntervalMs: positiveInt.default(60_000),
  /** Where the embedded adapters keep their files; `workspaceRoot`, `configRoot` and tokens default under it. */
  dataDir: z.string().min(1).default('.openclaw-mt'),
  workspaceRoot: z.string().min(1).optional(),
  configRoot: z.string().min(1).optional(),
  tokenRoot: z.string().min(1).optional(),
  templatePath: z.string().min(1).optional(),
  adapter: z.enum(['fs', 'redis', 'memory']).default('fs'),
  redis: z
    .strictObject({
      url: z.string().min(1).default('redis://127.0.0.1:6379'),
      prefix: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only').default('ocmt'),
      cluster: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  peppers: z.array(z.string().min(16, 'each pepper must be at least 16 characters')).default([]),
  whenFull: z.enum(['reject', 'wait']).default('reject'),
  queue: z.strictObject({ maxLength: positiveInt.optional(), timeoutMs: positiveInt.optional() }).prefault({}),
  authCache: z
    .strictObject({ ttlMs: milliseconds.optional(), negativeTtlMs: milliseconds.optional(), maxEntries: positiveInt.optional() })
    .prefault({}),
  rotationGraceMs: milliseconds.default(60 * 60_000),
  limits: z.strictObject({ maxFileBytes: positiveInt.optional(), maxWorkspaceBytes: positiveInt.optional() }).prefault({}),
  /** Operator defaults every tenant config is merged over. */
  defaults: tenantConfigSchema.default({}),
  /** Periodic stats and alerting. */
  monitor: z.strictObject({ enabled: z.boolean().default(true), intervalMs: positiveInt.default(30_000) }).prefault({}),
  /** Settings of the gateway package, validated there. */
  gateway: z.record(z.string(), z.unknown()).default({}),
  /** Settings of the admin endpoint, validated by the gateway package. */
  admin: z.record(z.string(), z.unknown()).default({}),
});

/** The whole config file: only the `multiTenant` block is ours; other top-level keys belong to OpenClaw. */
export const configFileSchema = z.looseObject({ multiTenant: multiTenantConfigSchema.prefault({}) });

/** The validated `multiTenant` block with defaults filled in. */
export type MultiTenantConfig = z.output<typeof multiTenantConfigSchema>;
