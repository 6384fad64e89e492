import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { MAX_PROTOCOL, MIN_PROTOCOL, type ErrorShape, type EventFrame, type Frame } from '../protocol/frames.js';
import { packageVersion } from '../package-version.js';
import { MAX_REFUSAL_BODY_BYTES, refusalShape, unreachableShape } from './connect-failure.js';

/** A failed request or handshake, carrying the server's error shape. */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';
  constructor(
    readonly shape: ErrorShape,
    /** The WebSocket close code, when the failure closed the connection. */
    readonly closeCode?: number,
    /** The HTTP status, when the gateway refused the upgrade (429 locked out or rate limited, 503 unavailable). */
    readonly status?: number,
  ) {
    super(shape.message);
  }

  /** How long to wait before trying again, when the gateway said (`retryAfterMs` or `Retry-After`). */
  get retryAfterMs(): number | undefined {
    return this.shape.retryAfterMs;
  }

  /** openclaw-mt's precise code (`details.code`), or the protocol code. */
  get code(): string {
    return typeof this.shape.details?.code === 'string' ? this.shape.details.code : this.shape.code;
  }
}

/** Options of {@link connectGateway}. */
export interface ConnectGatewayOptions {
  url: string;
  /** The gateway token; sent in the connect frame (or as a bearer header with `tokenInHeader`). */
  token?: string;
  /** Send the token as `Authorization: Bearer` on the upgrade request instead of in the frame. */
  tokenInHeader?: boolean;
  client?: { id?: string; version?: string; platform?: string; mode?: string };
  role?: string;
  scopes?: string[];
  /** Handshake timeout (default 15 s). */
  timeoutMs?: number;
}

/** An open, authenticated connection. */
export interface GatewayConnection {
  /** The `hello-ok` payload. */
  readonly hello: Record<string, unknown>;
  /** Sends a request and resolves with its payload; rejects with {@link GatewayRequestError}. */
  request<T = unknown>(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  /** Subscribes to server events; returns an unsubscribe function. */
  onEvent(listener: (event: EventFrame) => void): () => void;
  /** Resolves with the close code and reason once the connection closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/**
 * Connects to an OpenClaw-protocol gateway (ours, or a real OpenClaw gateway) with a token:
 * waits for `connect.challenge`, sends `connect`, resolves on `hello-ok`. The token is never put in
 * the URL.
 */
export function connectGateway(options: ConnectGatewayOptions): Promise<GatewayConnection> {
  const headers = options.tokenInHeader && options.token ? { authorization: `Bearer ${options.token}` } : undefined;
  const socket = new WebSocket(options.url, { headers, perMessageDeflate: false });
  const pending = new Map<string, { resolve: (payload: unknown) => void; reject: (error: Error) => void; timer?: NodeJS.Timeout }>();
  const listeners = new Set<(event: EventFrame) => void>();
  let settleClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (settleClosed = resolve));

  return new Promise<GatewayConnection>((resolve, reject) => {
    const connectId = randomUUID();
    let handshakeDone = false;
    let opened = false;
    let socketError: NodeJS.ErrnoException | undefined;
    let handshakeError: GatewayRequestError | undefined;
    const timer = setTimeout(() => {
      reject(new GatewayRequestError({ code: 'TIMEOUT', message: 'The gateway did not complete the handshake in time.' }));
      socket.terminate();
    }, options.timeoutMs ?? 15_000);

    socket.on('message', (data) => {
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
      } catch {
        return;
      }
      if (frame.type === 'event') {
        if (frame.event === 'connect.challenge' && !handshakeDone) {
          socket.send(
            JSON.stringify({
              type: 'req',
              id: connectId,
              method: 'connect',
              params: {
                minProtocol: MIN_PROTOCOL,
                maxProtocol: MAX_PROTOCOL,
                client: { id: 'cli', mode: 'cli', platform: process.platform, version: packageVersion, ...options.client },
                role: options.role ?? 'operator',
                scopes: options.scopes ?? ['operator.read', 'operator.write'],
                ...(options.token !== undefined && !options.tokenInHeader ? { auth: { token: options.token } } : {}),
              },
            }),
          );
          return;
        }
        for (const listener of listeners) listener(frame);
        return;
      }
      if (frame.type !== 'res') return;
      if (frame.id === connectId && !handshakeDone) {
        if (!frame.ok) {
          handshakeError = new GatewayRequestError(frame.error);
          return;
        }
        handshakeDone = true;
        clearTimeout(timer);
        resolve(connection(frame.payload as Record<string, unknown>));
        return;
      }
      const waiter = pending.get(frame.id);
      if (waiter === undefined) return;
      pending.delete(frame.id);
      clearTimeout(waiter.timer);
      if (frame.ok) waiter.resolve(frame.payload);
      else waiter.reject(new GatewayRequestError(frame.error));
    });

    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      const text = reason.toString();
      settleClosed({ code, reason: text });
      const failure = new GatewayRequestError({ code: 'CLOSED', message: `Connection closed (${code}${text ? `: ${text}` : ''}).` }, code);
      for (const waiter of pending.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(failure);
      }
      pending.clear();
      if (handshakeDone) return;
      if (handshakeError !== undefined) reject(new GatewayRequestError(handshakeError.shape, code));
      // The socket never opened: say why (nothing listening, unknown host) rather than a bare 1006.
      else if (!opened && socketError !== undefined) reject(new GatewayRequestError(unreachableShape(options.url, socketError), code));
      else reject(failure);
    });

    socket.on('open', () => {
      opened = true;
    });

    socket.on('error', (error: NodeJS.ErrnoException) => {
      // Reported through 'close', which always follows.
      socketError ??= error;
    });

    socket.on('unexpected-response', (_request, response) => {
      // The refusal's body says why and for how long; read it (bounded) before giving up the socket.
      const chunks: Buffer[] = [];
      let size = 0;
      const refuse = () => {
        clearTimeout(timer);
        const shape = refusalShape(options.url, response.statusCode ?? 0, response.headers, Buffer.concat(chunks).toString('utf8'));
        reject(new GatewayRequestError(shape, undefined, response.statusCode));
        socket.terminate();
      };
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_REFUSAL_BODY_BYTES) chunks.push(chunk);
      });
      response.once('end', refuse);
      response.once('error', refuse);
    });
  });

  function connection(hello: Record<string, unknown>): GatewayConnection {
    return {
      hello,
      closed,
      request<T>(method: string, params?: unknown, requestOptions: { timeoutMs?: number } = {}) {
        const id = randomUUID();
        return new Promise<T>((resolve, reject) => {
          if (socket.readyState !== WebSocket.OPEN) {
            reject(new GatewayRequestError({ code: 'CLOSED', message: 'The connection is closed.' }));
            return;
          }
          const timeoutMs = requestOptions.timeoutMs ?? 60_000;
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new GatewayRequestError({ code: 'TIMEOUT', message: `${method} timed out after ${timeoutMs} ms.` }));
          }, timeoutMs);
          pending.set(id, { resolve: resolve as (payload: unknown) => void, reject, timer });
          socket.send(JSON.stringify({ type: 'req', id, method, params: params ?? {} }));
        });
      },
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close() {
        socket.close(1000, 'bye');
      },
    };
  }
}
