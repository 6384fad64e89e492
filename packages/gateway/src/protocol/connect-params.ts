import { MultiTenantError } from '@openclaw-mt/core';
import { z } from 'zod';
import { MAX_PROTOCOL, MIN_PROTOCOL } from './frames.js';

const shortString = z.string().max(256);

/** The `connect` request's params, as far as the front door reads them. */
const connectParamsSchema = z.looseObject({
  minProtocol: z.int().positive(),
  maxProtocol: z.int().positive(),
  client: z
    .looseObject({
      id: shortString.optional(),
      version: shortString.optional(),
      platform: shortString.optional(),
      mode: shortString.optional(),
    })
    .optional(),
  role: shortString.optional(),
  scopes: z.array(shortString).max(64).optional(),
  auth: z.looseObject({ token: z.string().max(1024).optional() }).optional(),
  locale: shortString.optional(),
  userAgent: z.string().max(1024).optional(),
});

/** Validated connect params. */
export type ConnectParams = z.output<typeof connectParamsSchema>;

/** Validates connect params; throws `BAD_REQUEST` naming the field. */
export function parseConnectParams(params: unknown): ConnectParams {
  const parsed = connectParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MultiTenantError('BAD_REQUEST', `Invalid connect params: ${issue.path.join('.') || '(params)'}: ${issue.message}.`);
  }
  return parsed.data;
}

/** The protocol both sides support (the highest), or throws `BAD_REQUEST`. */
export function negotiateProtocol(params: ConnectParams): number {
  const high = Math.min(params.maxProtocol, MAX_PROTOCOL);
  const low = Math.max(params.minProtocol, MIN_PROTOCOL);
  if (high < low) {
    throw new MultiTenantError('BAD_REQUEST', `Protocol mismatch: this gateway speaks ${MIN_PROTOCOL}–${MAX_PROTOCOL}.`, {
      details: { reason: 'protocol-mismatch', minProtocol: MIN_PROTOCOL, maxProtocol: MAX_PROTOCOL },
    });
  }
  return high;
}
