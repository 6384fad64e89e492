import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { MultiTenantError } from '@openclaw-mt/core';
import { toErrorShape } from '../protocol/error-shape.js';

/**
 * Answers an upgrade request with a plain HTTP refusal before any WebSocket work: `Retry-After` in whole
 * seconds (rounded up) and a JSON body `{ error }` whose message and `retryAfterMs` say how long to wait.
 */
export function refuseUpgrade(socket: Duplex, status: number, error: MultiTenantError): void {
  const body = JSON.stringify({ error: toErrorShape(error) });
  const retryAfter = error.retryAfterMs === undefined ? '' : `Retry-After: ${Math.max(1, Math.ceil(error.retryAfterMs / 1000))}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${retryAfter}Content-Type: application/json\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
