import type { ServerResponse } from 'node:http';
import type { MultiTenantError } from '@openclaw-mt/core';

/**
 * Answers with a coded JSON error: `{ "error": { code, message, retryable, retryAfterMs?, details } }`.
 * `error.message` is where OpenAI's and Anthropic's SDKs look, so a cell shows the reason; retryable refusals
 * also carry `Retry-After` (seconds) and `retry-after-ms`, which OpenAI's SDK honours to the millisecond.
 */
export function sendError(
  response: ServerResponse,
  status: number,
  error: MultiTenantError,
  extraHeaders: Record<string, string> = {},
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify({ error: error.toJSON() });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...extraHeaders,
  };
  if (error.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(error.retryAfterMs);
  }
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  response.writeHead(status, headers);
  response.end(body);
}
