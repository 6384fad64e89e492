/**
 * Optional measurements the front door reports as it works (metrics plug in here). Outcomes are
 * `ok` or an error code; callbacks must be cheap and must not throw.
 */
export interface GatewayObserver {
  /** A handshake finished: time from the socket opening to `hello-ok` or the error frame. */
  handshake?(durationMs: number, outcome: string): void;
  /** A request was answered. */
  request?(method: string, durationMs: number, outcome: string): void;
}
