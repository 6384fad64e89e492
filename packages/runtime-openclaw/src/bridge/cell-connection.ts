import { MultiTenantError } from '@openclaw-mt/core';
import { WebSocket } from 'ws';
import { MAX_PROTOCOL, MIN_PROTOCOL, type EventFrame } from '@openclaw-mt/gateway/protocol';
import type { ErrorShape, RuntimeResponse } from '@openclaw-mt/gateway';
import { signedDeviceField, type BridgeDevice } from './bridge-device.js';

/** What the bridge tells a cell about itself when it connects. */
export interface CellConnectOptions {
  port: number;
  /** The cell's private credential. */
  token: string;
  /** Operator scopes to ask for (the cell grants a trusted local backend what it asks). */
  scopes: readonly string[];
  /** The client's declared capabilities (`tool-events`, `inline-widgets`), passed on. */
  caps?: readonly string[];
  locale?: string;
  userAgent?: string;
  clientVersion: string;
  /** The front door's device identity; the cell pairs it silently (loopback, its own token). */
  device?: BridgeDevice;
  /** Handshake timeout. */
  timeoutMs: number;
  /** Gives up the handshake (rejects with a retryable {@link CellHandshakeError} and drops the socket). */
  signal?: AbortSignal;
}

/** The cell refused or dropped the bridge's handshake. */
export class CellHandshakeError extends Error {
  override readonly name = 'CellHandshakeError';
  constructor(
    readonly shape: ErrorShape,
    readonly closeCode?: number,
  ) {
    super(shape.message);
  }

  /** The cell is still starting (`UNAVAILABLE`, close 1013): try again after `retryAfterMs`. */
  get retryable(): boolean {
    return this.shape.retryable === true || this.shape.code === 'UNAVAILABLE' || this.closeCode === 1013;
  }
}

/** Replaces the cell's credential and loopback address in text a client would see. */
export function scrubber(port: number, token: string): (text: string) => string {
  const origins = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return (text) => {
    let out = text;
    if (out.includes(token)) out = out.split(token).join('[redacted]');
    for (const origin of origins) if (out.includes(origin)) out = out.split(origin).join('openclaw-cell.invalid');
    return out;
  };
}

type Frame = { type?: unknown; id?: unknown; ok?: unknown; payload?: unknown; error?: ErrorShape; event?: unknown };

/** Requests answered with `{ status: "accepted" }` whose later answers are still forwarded, per connection. */
const MAX_FOLLOWED = 256;

/** Whether a response is OpenClaw's first answer of a two-phase method (`agent`): more may follow under the same id. */
export function isAcceptedResponse(response: RuntimeResponse): boolean {
  if (!response.ok) return false;
  const payload = response.payload;
  return typeof payload === 'object' && payload !== null && (payload as { status?: unknown }).status === 'accepted';
}

function toResponse(frame: Frame): RuntimeResponse {
  return frame.ok === true
    ? { ok: true, payload: frame.payload }
    : { ok: false, error: frame.error ?? { code: 'UNAVAILABLE', message: 'The request failed.' } };
}

/**
 * The front door's own connection to one tenant's cell: a `connect` from loopback with the cell's
 * private token as the trusted local backend (`gateway-client`, mode `backend`), signed with the
 * front door's device identity when it has one, then requests
 * with fresh ids and a stream of events. Every frame is scrubbed of the cell's token and address
 * before anyone sees it.
 */
export class CellConnection {
  private readonly pending = new Map<
    string,
    { resolve: (response: RuntimeResponse) => void; later?: (response: RuntimeResponse) => void }
  >();
  /** Requests answered "accepted" whose final answer is still to come (oldest first, bounded). */
  private readonly followed = new Map<string, (response: RuntimeResponse) => void>();
  private readonly eventListeners = new Set<(event: EventFrame) => void>();
  private readonly closeListeners = new Set<(code: number, reason: string) => void>();
  private nextId = 0;
  private isClosed = false;

  private constructor(
    private readonly socket: WebSocket,
    private readonly scrub: (text: string) => string,
    /** The cell's `hello-ok` payload (scrubbed). */
    readonly hello: Record<string, unknown>,
  ) {
    socket.on('message', (data) => this.onFrame(data.toString()));
    socket.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  /** Connects; rejects with {@link CellHandshakeError} when the cell refuses or is not there. */
  static open(options: CellConnectOptions): Promise<CellConnection> {
    const scrub = scrubber(options.port, options.token);
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${options.port}`, { perMessageDeflate: false, handshakeTimeout: options.timeoutMs });
      let settled = false;
      let refusal: ErrorShape | undefined;
      const settle = (outcome: (() => CellConnection) | CellHandshakeError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', aborted);
        socket.removeAllListeners('message');
        socket.removeAllListeners('close');
        if (outcome instanceof CellHandshakeError) {
          socket.terminate();
          reject(outcome);
        } else {
          resolve(outcome());
        }
      };
      const timer = setTimeout(
        () =>
          settle(
            new CellHandshakeError({
              code: 'UNAVAILABLE',
              message: 'The tenant gateway did not answer the handshake in time.',
              retryable: true,
            }),
          ),
        options.timeoutMs,
      );
      const aborted = () =>
        settle(
          new CellHandshakeError({ code: 'UNAVAILABLE', message: 'The handshake with the tenant gateway was given up.', retryable: true }),
        );
      if (options.signal?.aborted) aborted();
      else options.signal?.addEventListener('abort', aborted, { once: true });
      socket.on('error', () => undefined);
      socket.on('close', (code) =>
        settle(
          new CellHandshakeError(
            refusal ?? { code: 'UNAVAILABLE', message: `The tenant gateway closed the connection (${code}).`, retryable: true },
            code,
          ),
        ),
      );
      socket.on('message', (data) => {
        let frame: Frame;
        try {
          frame = JSON.parse(scrub(data.toString())) as Frame;
        } catch {
          return;
        }
        if (frame.type === 'event' && frame.event === 'connect.challenge') {
          const nonce = (frame.payload as { nonce?: unknown } | undefined)?.nonce;
          const client = { id: 'gateway-client', mode: 'backend', version: options.clientVersion, platform: process.platform };
          const device =
            options.device === undefined || typeof nonce !== 'string'
              ? undefined
              : signedDeviceField(options.device, {
                  clientId: client.id,
                  clientMode: client.mode,
                  role: 'operator',
                  scopes: options.scopes,
                  token: options.token,
                  nonce,
                  platform: client.platform,
                  signedAt: Date.now(),
                });
          socket.send(
            JSON.stringify({
              type: 'req',
              id: 'connect',
              method: 'connect',
              params: {
                minProtocol: MIN_PROTOCOL,
                maxProtocol: MAX_PROTOCOL,
                client,
                role: 'operator',
                scopes: [...options.scopes],
                ...(options.caps === undefined ? {} : { caps: [...options.caps] }),
                ...(options.locale === undefined ? {} : { locale: options.locale }),
                ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
                ...(device === undefined ? {} : { device }),
                auth: { token: options.token },
              },
            }),
          );
          return;
        }
        if (frame.type !== 'res' || frame.id !== 'connect') return;
        if (frame.ok === true) {
          settle(() => new CellConnection(socket, scrub, (frame.payload ?? {}) as Record<string, unknown>));
        } else {
          // The cell closes right after a refusal; report the refusal with the close code.
          refusal = frame.error ?? { code: 'UNAVAILABLE', message: 'The tenant gateway refused the connection.' };
        }
      });
    });
  }

  /** Whether the connection is gone. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether the connection is usable right now: not closed, and no close begun by either side. */
  get open(): boolean {
    return !this.isClosed && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one request; resolves with the cell's first answer (its error shape comes back unchanged as
   * `{ ok: false, error }`). When that answer is `{ status: "accepted" }`, every later answer under
   * the same id goes to `later`, up to and including the first one that is not "accepted".
   */
  request(method: string, params: unknown, later?: (response: RuntimeResponse) => void): Promise<RuntimeResponse> {
    if (this.isClosed || this.socket.readyState !== WebSocket.OPEN) return Promise.reject(lostError());
    const id = `b${++this.nextId}`;
    return new Promise((resolve) => {
      this.pending.set(id, later === undefined ? { resolve } : { resolve, later });
      this.socket.send(JSON.stringify({ type: 'req', id, method, ...(params === undefined ? {} : { params }) }));
    });
  }

  onEvent(listener: (event: EventFrame) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onClosed(listener: (code: number, reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    if (this.isClosed) return;
    this.socket.close(1000, 'client closed');
    // Settle now; the close frame exchange finishes in the background.
    this.onClose(1000, 'client closed');
  }

  private onFrame(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(this.scrub(text)) as Frame;
    } catch {
      return;
    }
    if (frame.type === 'res' && typeof frame.id === 'string') {
      const response = toResponse(frame);
      const follower = this.followed.get(frame.id);
      if (follower !== undefined) {
        if (!isAcceptedResponse(response)) this.followed.delete(frame.id);
        follower(response);
        return;
      }
      const entry = this.pending.get(frame.id);
      if (entry === undefined) return;
      this.pending.delete(frame.id);
      if (entry.later !== undefined && isAcceptedResponse(response)) this.follow(frame.id, entry.later);
      entry.resolve(response);
      return;
    }
    if (frame.type === 'event' && typeof frame.event === 'string') {
      for (const listener of this.eventListeners) listener(frame as EventFrame);
    }
  }

  /** Keeps forwarding answers to a request answered "accepted"; the oldest such request is forgotten beyond the bound. */
  private follow(id: string, later: (response: RuntimeResponse) => void): void {
    if (this.followed.size >= MAX_FOLLOWED) this.followed.delete(this.followed.keys().next().value!);
    this.followed.set(id, later);
  }

  private onClose(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const error = lostError();
    const lost: RuntimeResponse = {
      ok: false,
      error: { code: 'UNAVAILABLE', message: error.message, details: { code: error.code }, retryable: true, retryAfterMs: 1_000 },
    };
    for (const { resolve } of this.pending.values()) resolve(lost);
    this.pending.clear();
    // A client waiting for a final answer learns that none will come.
    for (const later of this.followed.values()) later(lost);
    this.followed.clear();
    for (const listener of this.closeListeners) listener(code, reason);
    this.closeListeners.clear();
    this.eventListeners.clear();
  }
}

function lostError(): MultiTenantError {
  return new MultiTenantError('BACKEND_UNAVAILABLE', 'The connection to your OpenClaw gateway was lost; reconnect to continue.', {
    retryAfterMs: 1_000,
  });
}
