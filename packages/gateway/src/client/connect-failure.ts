import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorShape } from '../protocol/frames.js';

/** Refusal bodies read at most this far: the gateway's own are a few hundred bytes. */
export const MAX_REFUSAL_BODY_BYTES = 64 * 1024;

/**
 * The URL as it may be shown to a person: scheme, host, port and path only, so credentials someone put
 * in the userinfo or query never reach a message.
 */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

/** The error shape for a socket that never opened: nothing listens there, or the host cannot be reached. */
export function unreachableShape(url: string, error: NodeJS.ErrnoException): ErrorShape {
  const where = shownUrl(url);
  const reason = error.code ?? error.message;
  const message =
    error.code === 'ECONNREFUSED'
      ? `Nothing is listening at ${where}.`
      : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
        ? `Cannot resolve the host of ${where} (${reason}).`
        : `Cannot reach ${where} (${reason}).`;
  return { code: 'UNAVAILABLE', message, details: { code: 'BACKEND_UNAVAILABLE', reason }, retryable: true };
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterHeaderMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The error shape for an upgrade the gateway refused with a plain HTTP answer (429 when locked out or
 * rate limited, 503 when shutting down or full): the gateway's own coded body when it sent one, with
 * `details.status` and the wait from the body's `retryAfterMs` or else the `Retry-After` header.
 */
export function refusalShape(url: string, status: number, headers: IncomingHttpHeaders, body: string): ErrorShape {
  let sent: Partial<ErrorShape> | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'object' && parsed.error !== null) sent = parsed.error as Partial<ErrorShape>;
  } catch {
    sent = undefined;
  }
  const retryAfterMs = typeof sent?.retryAfterMs === 'number' ? sent.retryAfterMs : retryAfterHeaderMs(headers['retry-after']);
  const retryable = typeof sent?.retryable === 'boolean' ? sent.retryable : status === 429 || status === 503;
  const fallbackCode = status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'BACKEND_UNAVAILABLE' : 'BAD_REQUEST';
  const code = typeof sent?.details?.code === 'string' ? sent.details.code : fallbackCode;
  return {
    code: typeof sent?.code === 'string' ? sent.code : retryable ? 'UNAVAILABLE' : 'INVALID_REQUEST',
    message: typeof sent?.message === 'string' ? sent.message : `The gateway at ${shownUrl(url)} refused the upgrade (HTTP ${status}).`,
    details: { ...sent?.details, code, status },
    retryable,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}
