import { isMultiTenantError, type ErrorCode } from '@openclaw-mt/core';
import { redactText } from '@openclaw-mt/core/tokens';
import type { ErrorShape } from './frames.js';

/** Protocol-level code for each openclaw-mt code; retryable failures are `UNAVAILABLE`, as OpenClaw uses it. */
function protocolCode(code: ErrorCode, retryable: boolean): string {
  if (retryable) return 'UNAVAILABLE';
  if (code === 'NOT_FOUND') return 'NOT_FOUND';
  if (code === 'INTERNAL') return 'INTERNAL';
  return 'INVALID_REQUEST';
}

/**
 * The wire shape of any failure. Coded errors keep their code in `details.code`; anything else
 * becomes `INTERNAL` with a generic message, so no internal detail or secret reaches a client.
 */
export function toErrorShape(error: unknown): ErrorShape {
  if (!isMultiTenantError(error)) {
    return { code: 'INTERNAL', message: 'Internal error.', details: { code: 'INTERNAL' }, retryable: false };
  }
  return {
    code: protocolCode(error.code, error.retryable),
    message: redactText(error.message),
    details: { ...error.details, code: error.code },
    retryable: error.retryable,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  };
}
