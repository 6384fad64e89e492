import { z } from 'zod';
import { tenantConfigProblem } from './tenant-config.js';

/** The adapters every install has, named in configuration by these words. */
export const BUILT_IN_ADAPTERS = ['fs', 'redis', 'memory'] as const;

/** The name of a built-in adapter. */
export type BuiltInAdapterName = (typeof BUILT_IN_ADAPTERS)[number];

const milliseconds = z.int().nonnegative();
const positiveInt = z.int().positive();

const tenantConfigSchema = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
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
  /**
   * Token formats the gateway accepts: `gt` (checksum-gated) and/or `gw` (the original fork's backend tokens,
   * verified by the backend). Default `["gt"]`, or `["gt", "gw"]` with `cloud.dialect: "fba"`.
   */
  tokenFormats: z
    .array(z.enum(['gt', 'gw']))
    .min(1)
    .optional(),
  /** The Cloud Backend client (used only with `cloudBackendUrl`). */
  cloud: z
    .strictObject({
      /** `v1`: openclaw-mt's wire contract; `fba`: the original fork's FastAPI backend, as it is. */
      dialect: z.enum(['v1', 'fba']).default('v1'),
      /** Prefix of the backend's routes under `cloudBackendUrl` (`fba` default: `/api/v1`). */
      pathPrefix: z
        .string()
        .regex(/^(?:\/[A-Za-z0-9._~-]+)*$/, 'a path such as /api/v1, or "" for none')
        .optional(),
      timeoutMs: positiveInt.optional(),
      outageGraceMs: milliseconds.optional(),
      pageLimit: z.int().min(1).max(1_000).optional(),
      /** Largest backend answer read (default 32 MiB); a feed page over it is re-read in smaller pages. */
      maxResponseBytes: positiveInt.optional(),
      /** A sync run that has not reached the end of the feed after this many pages fails (default 10,000). */
      maxPagesPerRun: positiveInt.optional(),
      /** Signed events pushed by the backend (contract v1.1): revocations reach open sockets at once. */
      push: z
        .strictObject({
          /** Shared HMAC secrets, current first; at least 32 characters each. Or `OPENCLAW_MT_PUSH_SECRET`. */
          secrets: z.array(z.string().min(32, 'each push secret must be at least 32 characters')).min(1),
          /** Path on the gateway's port where events are received. */
          path: z
            .string()
            .regex(/^\/[A-Za-z0-9._~/-]*$/, 'an absolute path such as /v1/cloud-events')
            .default('/v1/cloud-events'),
          /** Accepted age of a signature's timestamp, either way (the replay window). Default 5 min. */
          toleranceMs: positiveInt.default(5 * 60_000),
        })
        .optional(),
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
  /**
   * The storage adapter: a built-in name (`fs`, `redis`, `memory`) or a module exporting an adapter
   * factory as its default export (`{ "module": "./my-adapter.js", "options": { … } }`; a relative path is
   * resolved against the config file's directory, a package name from there or from the CLI's own install).
   */
  adapter: z
    .union([
      z.enum(BUILT_IN_ADAPTERS),
      z.strictObject({
        module: z.string().min(1, 'a package name or a path such as ./my-adapter.js'),
        options: z.record(z.string(), z.unknown()).default({}),
      }),
    ])
    .default('fs'),
  redis: z
    .strictObject({
      url: z.string().min(1).default('redis://127.0.0.1:6379'),
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
        .default('ocmt'),
      cluster: z.array(z.string().min(1)).optional(),
      /** How long opening waits for Redis (a gateway fails to start after it; a CLI command goes on). */
      readyTimeoutMs: positiveInt.optional(),
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
  monitor: z
    .strictObject({
      enabled: z.boolean().default(true),
      intervalMs: positiveInt.default(30_000),
      /** Alert when the host's available memory falls below this many bytes (default 10 % of it, at most 1 GiB). */
      hostMemoryLowBytes: positiveInt.optional(),
    })
    .prefault({}),
  /** Settings of the gateway package, validated there. */
  gateway: z.record(z.string(), z.unknown()).default({}),
  /** Settings of the admin endpoint, validated by the gateway package. */
  admin: z.record(z.string(), z.unknown()).default({}),
});

/** The whole config file: only the `multiTenant` block is ours; other top-level keys belong to OpenClaw. */
export const configFileSchema = z.looseObject({ multiTenant: multiTenantConfigSchema.prefault({}) });

/** The validated `multiTenant` block with defaults filled in. */
export type MultiTenantConfig = z.output<typeof multiTenantConfigSchema>;
