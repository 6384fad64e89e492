import { MultiTenantError } from '@openclaw-mt/core';
import { z } from 'zod';
import { quotasSchema } from '../limits/tenant-quotas.js';
import { openClawRuntimeSettingsSchema } from '../runtime/openclaw/runtime-settings.js';
import type { GatewayOptions } from '../gateway.js';

const positiveInt = z.int().positive();

/** The `multiTenant.gateway` block of the operator config file. */
export const gatewaySettingsSchema = z.strictObject({
  bind: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65_535).default(18789),
  runtime: z.enum(['workspace', 'openclaw']).default('workspace'),
  quotas: quotasSchema.prefault({}),
  methods: z.strictObject({ allow: z.array(z.string().min(1)).optional(), deny: z.array(z.string().min(1)).optional() }).prefault({}),
  authRateLimit: z
    .strictObject({ maxFailures: positiveInt.optional(), windowMs: positiveInt.optional(), lockoutMs: positiveInt.optional() })
    .prefault({}),
  trustProxy: z.boolean().default(false),
  handshakeTimeoutMs: positiveInt.default(10_000),
  maxPayloadBytes: positiveInt.default(16 * 1024 * 1024),
  drainTimeoutMs: z.int().nonnegative().default(10_000),
  /** Settings of the `openclaw` runtime (one OpenClaw gateway process per active tenant). */
  openclaw: openClawRuntimeSettingsSchema.optional(),
});

/** Validated gateway settings. */
export type GatewaySettings = z.output<typeof gatewaySettingsSchema>;

/** Validates the `gateway` block; throws `CONFIG_INVALID` naming each bad key. */
export function parseGatewaySettings(raw: unknown): GatewaySettings {
  const parsed = gatewaySettingsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `multiTenant.gateway.${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new MultiTenantError('CONFIG_INVALID', `Invalid configuration: ${problems}.`);
  }
  return parsed.data;
}

/** Gateway options from validated settings (everything but the manager and runtime). */
export function gatewayOptionsFromSettings(settings: GatewaySettings): Omit<GatewayOptions, 'manager' | 'runtime'> {
  const strip = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
  return {
    host: settings.bind,
    port: settings.port,
    quotas: strip(settings.quotas),
    methods: strip(settings.methods),
    authRateLimit: strip(settings.authRateLimit),
    trustProxy: settings.trustProxy,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    maxPayloadBytes: settings.maxPayloadBytes,
    drainTimeoutMs: settings.drainTimeoutMs,
  };
}
