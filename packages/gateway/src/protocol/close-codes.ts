/** WebSocket close codes the front door uses, with the meaning OpenClaw clients give them. */
export const CloseCodes = {
  /** Normal closure. */
  normal: 1000,
  /** The frame was not valid protocol. */
  protocolError: 1002,
  /** Authentication or policy failure: do not retry with the same credentials. */
  policy: 1008,
  /** A frame was too large. */
  tooBig: 1009,
  /** Unexpected server failure. */
  internal: 1011,
  /** The server is restarting or shutting down (sent after a `shutdown` event). */
  restart: 1012,
  /** Try again later: capacity, quota or a cold start; the error carries `retryAfterMs`. */
  tryAgainLater: 1013,
} as const;
