/** The OpenClaw Gateway protocol versions this front door speaks. */
export const MIN_PROTOCOL = 3;
export const MAX_PROTOCOL = 4;

/** A request from the client. */
export interface RequestFrame {
  type: 'req';
  id: string;
  method: string;
  params?: unknown;
}

/** The error shape of a failed response, as OpenClaw clients expect it. */
export interface ErrorShape {
  /** Protocol-level code (`INVALID_REQUEST`, `UNAVAILABLE`, …). */
  code: string;
  message: string;
  /** `details.code` carries openclaw-mt's precise code (`TOKEN_REVOKED`, `CAPACITY`, …). */
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
}

/** A response to a request. */
export type ResponseFrame =
  | { type: 'res'; id: string; ok: true; payload: unknown }
  | { type: 'res'; id: string; ok: false; error: ErrorShape };

/** A server-pushed event. */
export interface EventFrame {
  type: 'event';
  event: string;
  payload?: unknown;
  seq?: number;
}

/** Any frame. */
export type Frame = RequestFrame | ResponseFrame | EventFrame;

/** A successful response. */
export function okFrame(id: string, payload: unknown): ResponseFrame {
  return { type: 'res', id, ok: true, payload };
}

/** A failed response. */
export function errorFrame(id: string, error: ErrorShape): ResponseFrame {
  return { type: 'res', id, ok: false, error };
}

/** An event. */
export function eventFrame(event: string, payload?: unknown): EventFrame {
  return payload === undefined ? { type: 'event', event } : { type: 'event', event, payload };
}
