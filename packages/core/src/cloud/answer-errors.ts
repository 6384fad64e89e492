import type { z } from 'zod';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { redactText } from '../tokens/redact.js';
import { type CloudResponse, errorCodeOf, retryAfterMs } from './http-request.js';

/**
 * Parses a payload, or throws `CONFIG_INVALID` listing (at most five) problems by field path. Values are
 * never echoed, and the message is redacted of `secrets` (a backend may echo a credential in a field name).
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string, secrets: readonly string[] = []): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = describeIssues(parsed.error.issues, secrets);
  throw new MultiTenantError('CONFIG_INVALID', `Invalid ${what}: ${problems}.`, { details: { reason: 'invalid-payload', problems } });
}

/** `users.3.version: expected int` style, field paths first, values never echoed. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], secrets: readonly string[] = []): string {
  const shown = issues.slice(0, 5).map((issue) => `${issue.path.length === 0 ? '(body)' : issue.path.join('.')}: ${issue.message}`);
  if (issues.length > 5) shown.push(`and ${issues.length - 5} more`);
  return redactText(shown.join('; '), secrets);
}

/** The backend refused the service token: one coded failure that says so (never retried quickly). */
export function serviceTokenRejected(response: CloudResponse, hint = 'check multiTenant.serviceToken'): MultiTenantError {
  return new MultiTenantError('BACKEND_UNAVAILABLE', `The Cloud Backend rejected the service token (${response.status}); ${hint}.`, {
    retryAfterMs: 60_000,
    details: { reason: 'service-token-rejected', status: response.status },
  });
}

/** An answer outside the contract: unknown, never a definite one. The backend's own code is shown redacted. */
export function unexpectedStatus(target: string, response: CloudResponse, secrets: readonly string[], code?: string): MultiTenantError {
  const shown = code ?? errorCodeOf(response.body);
  return new MultiTenantError(
    'BACKEND_UNAVAILABLE',
    `${target} answered ${response.status}${shown ? ` (${redactText(shown.slice(0, 200), secrets)})` : ''}.`,
    {
      retryAfterMs: retryAfterMs(response.headers) ?? 1_000,
      details: {
        reason: response.status >= 500 ? 'server-error' : response.status === 404 ? 'route-missing' : 'unexpected-status',
        status: response.status,
      },
    },
  );
}
