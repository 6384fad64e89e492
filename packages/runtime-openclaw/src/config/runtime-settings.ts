import { configInvalid, configIssues } from '@openclaw-mt/core';
import { z } from 'zod';
import { capacityForMemoryBudget, DEFAULT_CELL_MEMORY_BYTES } from '../cell/capacity.js';
import type { JsonObject } from './cell-config.js';
import type { OpenClawRuntimeOptions } from '../openclaw-runtime.js';

const ms = z.int().positive();

/** One upstream provider of the model gateway, as the operator config names it. */
const modelProviderSchema = z.strictObject({
  api: z.string().min(1),
  baseUrl: z.string().min(1),
  /** The operator's key, literally (keep the config file private) … */
  apiKey: z.string().min(1).optional(),
  /** … or the name of the environment variable holding it. */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
  routes: z.array(z.string().min(1)).optional(),
  streamUsage: z.boolean().optional(),
});

/**
 * The model gateway in front of every provider: cells get its address and a per-cell credential,
 * never these keys.
 */
export const modelGatewaySettingsSchema = z.strictObject({
  providers: z.record(z.string(), modelProviderSchema),
  limits: z.strictObject({ requestsPerMinute: z.int().positive().optional(), tokensPerDay: z.int().positive().optional() }).optional(),
  maxBodyBytes: z.int().positive().optional(),
  upstreamTimeoutMs: ms.optional(),
});

/** Validated model gateway settings. */
export type ModelGatewaySettings = z.output<typeof modelGatewaySettingsSchema>;
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
  /** Tenant ids (or `"*"`) granted `operator.admin` and terminals; none by default. */
  privileges: z.strictObject({ admin: z.array(z.string().min(1)).optional(), terminal: z.array(z.string().min(1)).optional() }).optional(),
  env: z.record(z.string(), z.string()).optional(),
  osUsers: z.union([z.literal('auto'), z.boolean()]).optional(),
  /** Run cells in a bubblewrap sandbox (default true); `false` is the operator's opt-out where the host cannot. */
  sandbox: z.boolean().optional(),
  /** A sandboxed cell's network: `none` (default; the model gateway only) or `host`. */
  egress: z.enum(['none', 'host']).optional(),
  ports: z.strictObject({ first: port.optional(), last: port.optional(), stride: z.int().positive().optional() }).optional(),
  coldStartWaitMs: ms.optional(),
  helloHoldMs: ms.optional(),
  startTimeoutMs: ms.optional(),
  stopTimeoutMs: ms.optional(),
  /** Model-quiet time after which a cell asks OpenClaw to retire its idle workers (default 5 min; 0: never). */
  releaseIdleWorkersMs: z.int().min(0).optional(),
  /** Once OpenClaw listens, a sandboxed cell asks V8 to favour memory over speed (default true). */
  optimizeForSize: z.boolean().optional(),
  /** Let a sandboxed cell's OpenClaw keep its spawn broker process (default false: it spawns from its own process). */
  spawnBroker: z.boolean().optional(),
  restart: z
    .strictObject({
      initialDelayMs: ms.optional(),
      maxDelayMs: ms.optional(),
      maxAttempts: z.int().positive().optional(),
      stableAfterMs: ms.optional(),
    })
    .optional(),
  /** Keep a spare, authenticated connection to each ready cell for the next client (default true). */
  spareConnections: z.boolean().optional(),
  spareMaxAgeMs: ms.optional(),
  /** The model gateway every cell's providers point at (serve starts it). */
  models: modelGatewaySettingsSchema.optional(),
  /**
   * OpenClaw's HTTP surfaces, served per tenant on the front door's port (all off by default):
   * `openai` (`/v1/chat/completions`, `/v1/models`, `/v1/embeddings`; tenants granted `admin` only),
   * `responses` (`/v1/responses`; `admin` only) and `hooks` (`/hooks/*`; every tenant).
   */
  httpApis: z.strictObject({ openai: z.boolean().optional(), responses: z.boolean().optional(), hooks: z.boolean().optional() }).optional(),
  /** Serve OpenClaw's Control UI on the front door's port (default true). */
  controlUi: z.boolean().optional(),
  /**
   * Memory for cells, in bytes: the manager's capacity follows it at the measured memory per cell,
   * and a new cell that would not fit is refused (retryable `CAPACITY`).
   */
  memoryBudgetBytes: z.number().positive().optional(),
  /** Memory one cell is planned at until a ready cell has been measured (default `DEFAULT_CELL_MEMORY_BYTES`). */
  cellMemoryBytes: z.number().positive().optional(),
  /** Host memory kept available when starting a cell (default 10 % of the host's memory, at most 1 GiB). */
  hostMemoryReserveBytes: z.number().positive().optional(),
  /** How often cells' disk is checked against their tenants' `workspaceBytes` quota (default 30 s). */
  diskCheckIntervalMs: ms.optional(),
  /**
   * OpenClaw gateways to keep booted for tenants that have none yet (default 0): a new tenant takes
   * one and gets its first reply in about a second instead of ~20 s. Each costs an idle cell's memory.
   */
  warmCells: z.int().min(0).max(64).optional(),
  /**
   * OpenClaw processes to keep primed for tenants whose cell must start with state of their own (default 0):
   * OpenClaw's modules are loaded before the tenant comes (~2.5 s of its start). Needs the sandbox and root.
   */
  primedProcesses: z.int().min(0).max(64).optional(),
  /**
   * Keep the install's compile cache for every sandboxed cell to start from (default `true`): recorded once per
   * install, read-only in every sandbox. Own starts ~1–1.5 s faster, no tenant keeps a copy (12–40 MB of disk each),
   * ~23 MB more memory per running cell.
   */
  compileCache: z.boolean().optional(),
});

/** Validated `openclaw` runtime settings. */
export type OpenClawRuntimeSettings = z.output<typeof openClawRuntimeSettingsSchema>;

/** Validates the block; throws `CONFIG_INVALID` naming each bad key. */
export function parseOpenClawRuntimeSettings(raw: unknown): OpenClawRuntimeSettings {
  const parsed = openClawRuntimeSettingsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw configInvalid(configIssues(parsed.error, 'multiTenant.gateway.openclaw'));
  return parsed.data;
}

/**
 * Runtime options from validated settings, the manager capacity the memory budget allows (when
 * a budget is set; the operator's `maxCachedUsers` applies otherwise), and whether the front door
 * serves the Control UI.
 */
export function openClawRuntimeOptionsFromSettings(settings: OpenClawRuntimeSettings): {
  options: OpenClawRuntimeOptions;
  /** The capacity the budget holds at the configured per-cell memory, before any cell is measured. */
  capacity: number | undefined;
  /** The memory budget, for following the capacity as cells are measured. */
  memoryBudgetBytes: number | undefined;
  /** The model gateway to start (the host builds it and passes it as `options.models`). */
  models: ModelGatewaySettings | undefined;
  /**
   * Whether the front door serves the Control UI: `true` requires it (a runtime without it fails the start),
   * `undefined` (the default) serves it when the installed runtime has it.
   */
  controlUi: boolean | undefined;
  /** How many pre-booted cells to keep (the host gives them a directory: `options.warmCells`). */
  warmCells: number | undefined;
  /** How many primed processes to keep (the host gives them a directory: `options.primedProcesses`). */
  primedProcesses: number | undefined;
  /** Whether to keep the shared compile cache (the host gives it a directory: `options.compileCache`). */
  compileCache: boolean;
} {
  const { runtimeDir, config, models, controlUi, warmCells, primedProcesses, compileCache, ...rest } = settings;
  const { memoryBudgetBytes, cellMemoryBytes } = settings;
  const options = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as OpenClawRuntimeOptions;
  if (runtimeDir !== undefined) options.install = runtimeDir;
  if (config !== undefined) options.config = config as JsonObject;
  const capacity =
    memoryBudgetBytes === undefined ? undefined : capacityForMemoryBudget(memoryBudgetBytes, cellMemoryBytes ?? DEFAULT_CELL_MEMORY_BYTES);
  return { options, capacity, memoryBudgetBytes, models, controlUi, warmCells, primedProcesses, compileCache: compileCache ?? true };
}
