import { MultiTenantError } from '@openclaw-mt/core';
import type { RequestFrame } from './frames.js';

const MAX_ID_LENGTH = 128;
const MAX_METHOD_LENGTH = 128;

/**
 * Parses one client frame: valid JSON, a `req` with a string `id` and `method`. Throws `BAD_REQUEST`
 * (never echoing the input) for anything else. `id` is returned separately when it could be read,
 * so an error can still be correlated.
 */
export function parseRequestFrame(data: string): RequestFrame {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new MultiTenantError('BAD_REQUEST', 'Frames must be JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MultiTenantError('BAD_REQUEST', 'A frame must be a JSON object.');
  }
  const frame = value as Record<string, unknown>;
  if (frame.type !== 'req') throw new MultiTenantError('BAD_REQUEST', 'Clients may only send "req" frames.');
  if (typeof frame.id !== 'string' || frame.id.length === 0 || frame.id.length > MAX_ID_LENGTH) {
    throw new MultiTenantError('BAD_REQUEST', `A request needs a string id of 1–${MAX_ID_LENGTH} characters.`);
  }
  if (typeof frame.method !== 'string' || frame.method.length === 0 || frame.method.length > MAX_METHOD_LENGTH) {
    throw new MultiTenantError('BAD_REQUEST', 'A request needs a method name.');
  }
  return { type: 'req', id: frame.id, method: frame.method, params: frame.params };
}

/** The request id of a frame that failed to parse, when one can be recovered safely. */
export function recoverRequestId(data: string): string | undefined {
  try {
    const value = JSON.parse(data) as { id?: unknown };
    return typeof value?.id === 'string' && value.id.length <= MAX_ID_LENGTH ? value.id : undefined;
  } catch {
    return undefined;
  }
}
