import { MultiTenantError, type TenantConfig } from '@openclaw-mt/core';
import { z } from 'zod';

/** Per-tenant limits enforced at the front door. */
export interface TenantQuotas {
  /** Concurrent client connections. */
  connections: number;
  /** Requests per minute, over all of the tenant's connections. */
  requestsPerMinute: number;
  /** Bytes of workspace files (checked on writes through the front door). */
  workspaceBytes: number;
}

/** Operator defaults when the config names none. */
export const DEFAULT_QUOTAS: TenantQuotas = Object.freeze({
  connections: 8,
  requestsPerMinute: 600,
  workspaceBytes: 100 * 1024 * 1024,
});

export const quotasSchema = z.strictObject({
  connections: z.int().positive().optional(),
  requestsPerMinute: z.int().positive().optional(),
  workspaceBytes: z.int().positive().optional(),
});

/**
 * A tenant's quotas: the operator's defaults, overridden key by key by the tenant config's `quotas`
 * object. An invalid `quotas` object is a `CONFIG_INVALID` error (the activation fails closed).
 */
export function resolveQuotas(defaults: TenantQuotas, config: TenantConfig): TenantQuotas {
  if (config.quotas === undefined) return defaults;
  const parsed = quotasSchema.safeParse(config.quotas);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MultiTenantError('CONFIG_INVALID', `quotas.${issue.path.join('.')}: ${issue.message}.`);
  }
  return { ...defaults, ...Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined)) };
}
