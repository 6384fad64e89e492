import { configInvalid, configIssues } from '@openclaw-mt/core';
import { z } from 'zod';

/** Environment variable holding the admin token (preferred over the config file). */
export const ADMIN_TOKEN_ENV = 'OPENCLAW_MT_ADMIN_TOKEN';

/** The `multiTenant.admin` block: the admin HTTP endpoint. */
export const adminSettingsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  bind: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65_535).default(18790),
  token: z.string().min(16, 'must be at least 16 characters').optional(),
});

/** Validated admin settings. */
export type AdminSettings = z.output<typeof adminSettingsSchema>;

/** Validates the `admin` block (with `OPENCLAW_MT_ADMIN_TOKEN` overriding `token`); throws `CONFIG_INVALID`. */
export function parseAdminSettings(raw: unknown, env: NodeJS.ProcessEnv = process.env): AdminSettings {
  const input = {
    ...(typeof raw === 'object' && raw !== null ? raw : {}),
    ...(env[ADMIN_TOKEN_ENV] ? { token: env[ADMIN_TOKEN_ENV] } : {}),
  };
  const parsed = adminSettingsSchema.safeParse(input);
  if (!parsed.success) throw configInvalid(configIssues(parsed.error, 'multiTenant.admin'));
  return parsed.data;
}
