import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _receiver?: { _maxPayload?: unknown };
}

/**
 * Raises the largest frame a socket accepts once it has authenticated. `ws` applies `maxPayload` as it
 * reads each frame header, so the pre-auth cap refuses an oversized frame (close 1009) before buffering
 * it; `ws` has no public setter, so this reaches its receiver (the `ws` version is pinned and a test
 * sends a large frame after `hello-ok`). Throws when the field is missing, so a `ws` upgrade that moved
 * it fails loudly instead of silently keeping either limit.
 */
export function raiseFrameLimit(socket: WebSocket, maxPayloadBytes: number): void {
  const receiver = (socket as unknown as ReceiverInternals)._receiver;
  if (receiver === undefined || typeof receiver._maxPayload !== 'number') {
    throw new Error('ws internals changed: cannot raise the frame limit after authentication');
  }
  receiver._maxPayload = maxPayloadBytes;
}
