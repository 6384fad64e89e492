import { randomBytes } from 'node:crypto';
import type { ConsolaInstance } from 'consola';
import { MultiTenantError, isMultiTenantError, type AuthResult, type Lease, type TenantManager } from '@openclaw-mt/core';
import type { RawData, WebSocket } from 'ws';
import { CloseCodes } from '../protocol/close-codes.js';
import { negotiateProtocol, parseConnectParams, type ConnectParams } from '../protocol/connect-params.js';
import { toErrorShape } from '../protocol/error-shape.js';
import { errorFrame, eventFrame, okFrame, type EventFrame, type Frame, type RequestFrame } from '../protocol/frames.js';
import { parseRequestFrame, recoverRequestId } from '../protocol/parse-frame.js';
import type { AuthRateLimiter } from '../limits/auth-rate-limiter.js';
import type { RequestRate } from '../limits/request-rate.js';
import type { TenantQuotas } from '../limits/tenant-quotas.js';
import type { RuntimeSession, TenantRuntime } from '../runtime/tenant-runtime.js';
import type { ConnectionRegistry, RegisteredConnection } from './connection-registry.js';
import type { GatewayObserver } from './gateway-observer.js';

/** Limits and identity the connection needs from its gateway. */
export interface ConnectionSettings {
  handshakeTimeoutMs: number;
  maxPreAuthBytes: number;
  maxPayloadBytes: number;
  maxBufferedBytes: number;
  maxInFlight: number;
  tickIntervalMs: number;
  serverVersion: string;
}

/** Everything a connection shares with the rest of the gateway. */
export interface ConnectionServices {
  manager: TenantManager;
  runtime: TenantRuntime;
  registry: ConnectionRegistry<ClientConnection>;
  authLimiter: AuthRateLimiter;
  requestRate: RequestRate;
  quotasFor(lease: Lease): TenantQuotas;
  methodAllowed(method: string): boolean;
  /** Increases on every revocation or suspension, so a handshake can notice one that raced it. */
  revocationEpoch(): number;
  settings: ConnectionSettings;
  log: ConsolaInstance;
  /** Called whenever a request finishes, so shutdown can wait for in-flight work. */
  onIdle(): void;
  observer: GatewayObserver | undefined;
}

/** What the gateway knows about the socket before any frame arrives. */
export interface ConnectionInfo {
  connId: string;
  address: string;
  /** A token from `Authorization: Bearer` on the upgrade request. */
  bearer: string | undefined;
}

type State = 'awaiting-connect' | 'authenticating' | 'open' | 'closed';

function failureCloseCode(error: unknown): number {
  if (!isMultiTenantError(error)) return CloseCodes.internal;
  if (error.retryable) return CloseCodes.tryAgainLater;
  if (error.code === 'CLOSED') return CloseCodes.restart;
  if (error.code === 'INTERNAL') return CloseCodes.internal;
  return CloseCodes.policy;
}

// Auth failures that count against the client's address (guessing); outages and capacity do not.
const GUESSING = new Set(['TOKEN_MALFORMED', 'TOKEN_UNKNOWN', 'TOKEN_REVOKED', 'TOKEN_EXPIRED', 'TENANT_SUSPENDED', 'TENANT_UNKNOWN']);

/**
 * One client WebSocket: challenge, a single `connect` with a gateway token, then frames bound to
 * exactly one tenant until it closes. Any failure before `hello-ok` closes the socket without
 * touching a tenant (fail closed).
 */
export class ClientConnection implements RegisteredConnection {
  tenantId = '';
  tokenHash = '';
  /** Requests being answered right now. */
  inFlight = 0;
  /** Set once a shutdown was announced: new requests are refused. */
  private draining = false;

  private state: State = 'awaiting-connect';
  private lease: Lease | undefined;
  private session: RuntimeSession | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private readonly aborter = new AbortController();
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly openedAt = performance.now();

  constructor(
    private readonly socket: WebSocket,
    private readonly services: ConnectionServices,
    readonly info: ConnectionInfo,
  ) {}

  /** Sends the challenge and starts listening. */
  start(): void {
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on('close', () => this.onClosed());
    this.socket.on('error', () => this.onClosed());
    this.handshakeTimer = setTimeout(() => {
      if (this.state === 'awaiting-connect' || this.state === 'authenticating') this.close(CloseCodes.policy, 'handshake timeout');
    }, this.services.settings.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    this.send(eventFrame('connect.challenge', { nonce: this.nonce, ts: Date.now() }));
  }

  /** Whether the socket has closed (read through a getter: it changes across awaits). */
  private get closed(): boolean {
    return this.state === 'closed';
  }

  /** Whether the handshake completed and the socket is still open. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Closes the socket (idempotent). */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.socket.close(code, reason.slice(0, 120));
    this.onClosed();
  }

  /**
   * Announces a shutdown: sends the `shutdown` event and refuses new requests, so the gateway can let
   * in-flight ones answer before closing with 1012. A connection still in its handshake is closed now.
   */
  announceShutdown(reason: string): void {
    if (this.state !== 'open') return this.close(CloseCodes.restart, reason);
    this.draining = true;
    this.send(eventFrame('shutdown', { reason }));
  }

  private send(frame: Frame): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.services.settings.maxBufferedBytes) {
      // A client that does not read cannot make the gateway buffer without bound.
      this.close(CloseCodes.policy, 'slow consumer');
      return;
    }
    this.socket.send(JSON.stringify(frame));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const size = Array.isArray(data) ? data.reduce((sum, part) => sum + part.byteLength, 0) : (data as Buffer).byteLength;
    if (this.state === 'awaiting-connect') {
      if (size > this.services.settings.maxPreAuthBytes) return this.close(CloseCodes.tooBig, 'pre-auth frame too large');
      this.state = 'authenticating';
      void this.handshake(isBinary ? undefined : rawToString(data));
      return;
    }
    if (this.state === 'authenticating') return this.close(CloseCodes.policy, 'frame before hello-ok');
    if (this.state !== 'open') return;
    if (isBinary) return this.send(errorFrame('', toErrorShape(new MultiTenantError('BAD_REQUEST', 'Binary frames are not supported.'))));
    void this.onRequest(rawToString(data));
  }

  private async handshake(text: string | undefined): Promise<void> {
    let requestId = '';
    try {
      if (text === undefined) throw new MultiTenantError('BAD_REQUEST', 'The first frame must be a JSON connect request.');
      requestId = recoverRequestId(text) ?? '';
      const frame = parseRequestFrame(text);
      requestId = frame.id;
      if (frame.method !== 'connect') throw new MultiTenantError('BAD_REQUEST', 'The first frame must be a connect request.');
      const params = parseConnectParams(frame.params);
      const protocol = negotiateProtocol(params);
      const auth = await this.authenticate(params);
      // Authenticated: from here the runtime bounds the wait (an OpenClaw cell may take seconds to start).
      clearTimeout(this.handshakeTimer);
      await this.bind(auth, params, protocol, frame.id);
      this.services.observer?.handshake?.(performance.now() - this.openedAt, 'ok');
    } catch (error) {
      this.services.observer?.handshake?.(performance.now() - this.openedAt, isMultiTenantError(error) ? error.code : 'INTERNAL');
      if (this.closed) return;
      this.send(errorFrame(requestId, toErrorShape(error)));
      this.close(failureCloseCode(error), isMultiTenantError(error) ? error.code : 'handshake failed');
    }
  }

  private async authenticate(params: ConnectParams): Promise<AuthResult> {
    const { authLimiter, manager } = this.services;
    const address = this.info.address;
    const waitMs = authLimiter.retryAfterMs(address);
    if (waitMs > 0) {
      throw new MultiTenantError('RATE_LIMITED', 'Too many failed authentications from this address.', { retryAfterMs: waitMs });
    }
    const fromFrame = params.auth?.token;
    const fromHeader = this.info.bearer;
    if (fromFrame !== undefined && fromHeader !== undefined && fromFrame !== fromHeader) {
      throw new MultiTenantError('BAD_REQUEST', 'The Authorization header and auth.token name different tokens.');
    }
    const token = fromFrame ?? fromHeader;
    try {
      if (token === undefined) throw new MultiTenantError('TOKEN_MALFORMED', 'A gateway token is required (auth.token or Authorization: Bearer).');
      const result = manager.authenticateCached(token) ?? (await manager.authenticate(token));
      authLimiter.recordSuccess(address);
      return result;
    } catch (error) {
      if (isMultiTenantError(error) && GUESSING.has(error.code)) authLimiter.recordFailure(address);
      throw error;
    }
  }

  private async bind(auth: AuthResult, params: ConnectParams, protocol: number, requestId: string): Promise<void> {
    const { manager, registry, runtime } = this.services;
    const epoch = this.services.revocationEpoch();
    const lease = await manager.acquire(auth.tenantId);
    if (this.closed) return lease.release();
    this.lease = lease;
    const quotas = this.services.quotasFor(lease);
    if (registry.countOf(auth.tenantId) >= quotas.connections) {
      throw new MultiTenantError('QUOTA_EXCEEDED', `This account already has ${quotas.connections} open connections.`, {
        retryAfterMs: 5_000,
        details: { quota: 'connections', limit: quotas.connections },
      });
    }
    this.tenantId = auth.tenantId;
    this.tokenHash = auth.tokenHash;
    registry.add(this);
    // A revocation or suspension that landed while we awaited would have missed this socket: recheck.
    if (this.services.revocationEpoch() !== epoch) {
      const token = params.auth?.token ?? this.info.bearer!;
      await manager.authenticate(token);
      if (this.closed) return;
    }
    const { auth: _credentials, ...connect } = params;
    this.session = await runtime.openSession({
      tenantId: auth.tenantId,
      lease,
      connect,
      protocol,
      quotas,
      signal: this.aborter.signal,
      sendEvent: (frame: EventFrame) => this.send(frame),
      close: (code, reason) => this.close(code, reason),
    });
    if (this.closed) return this.session.close();
    const { settings } = this.services;
    const { policy: runtimePolicy, ...extra } = this.session.hello ?? {};
    this.send(
      okFrame(requestId, {
        type: 'hello-ok',
        protocol,
        server: { version: settings.serverVersion, connId: this.info.connId },
        features: { methods: [], events: [] },
        snapshot: { tenantId: auth.tenantId, runtime: runtime.name },
        auth: { role: params.role ?? 'operator', scopes: params.scopes ?? [] },
        ...extra,
        // The runtime may add policy fields; the front door's own limits always win.
        policy: {
          ...(typeof runtimePolicy === 'object' && runtimePolicy !== null ? runtimePolicy : {}),
          maxPayload: settings.maxPayloadBytes,
          maxBufferedBytes: settings.maxBufferedBytes,
          tickIntervalMs: settings.tickIntervalMs,
        },
      }),
    );
    this.state = 'open';
    clearTimeout(this.handshakeTimer);
    this.tickTimer = setInterval(() => this.send(eventFrame('tick', { ts: Date.now() })), settings.tickIntervalMs);
    this.tickTimer.unref();
  }

  private async onRequest(text: string): Promise<void> {
    let request: RequestFrame;
    try {
      request = parseRequestFrame(text);
    } catch (error) {
      return this.send(errorFrame(recoverRequestId(text) ?? '', toErrorShape(error)));
    }
    const { manager, requestRate, settings } = this.services;
    if (this.draining) {
      return this.send(errorFrame(request.id, toErrorShape(new MultiTenantError('CLOSED', 'The gateway is shutting down; reconnect shortly.', { retryAfterMs: 1_000 }))));
    }
    if (request.method === 'connect') {
      return this.send(errorFrame(request.id, toErrorShape(new MultiTenantError('BAD_REQUEST', 'Already connected.'))));
    }
    if (this.inFlight >= settings.maxInFlight) {
      return this.send(errorFrame(request.id, toErrorShape(new MultiTenantError('RATE_LIMITED', `At most ${settings.maxInFlight} requests may be in flight per connection.`, { retryAfterMs: 100 }))));
    }
    if (!this.services.methodAllowed(request.method)) {
      return this.send(errorFrame(request.id, toErrorShape(new MultiTenantError('BAD_REQUEST', `${request.method} is not allowed here.`, { details: { reason: 'method-denied' } }))));
    }
    const quotas = this.services.quotasFor(this.lease!);
    const waitMs = requestRate.take(this.tenantId, quotas.requestsPerMinute);
    if (waitMs > 0) {
      return this.send(errorFrame(request.id, toErrorShape(new MultiTenantError('RATE_LIMITED', `At most ${quotas.requestsPerMinute} requests per minute.`, { retryAfterMs: waitMs, details: { quota: 'requestsPerMinute' } }))));
    }
    // The request pins the tenant on its own, so it finishes even if the socket closes meanwhile.
    const pin = manager.tryAcquire(this.tenantId);
    if (pin === undefined) return this.close(CloseCodes.restart, 'tenant is no longer active');
    this.inFlight++;
    const started = performance.now();
    let result = 'ok';
    try {
      const outcome = await this.session!.handle(request);
      if (!outcome.ok) result = String(outcome.error.details?.code ?? outcome.error.code);
      this.send(outcome.ok ? okFrame(request.id, outcome.payload) : errorFrame(request.id, outcome.error));
    } catch (error) {
      result = isMultiTenantError(error) ? error.code : 'INTERNAL';
      if (!isMultiTenantError(error)) this.services.log.warn(`request ${request.method} of ${this.tenantId} failed:`, error);
      this.send(errorFrame(request.id, toErrorShape(error)));
    } finally {
      this.services.observer?.request?.(request.method, performance.now() - started, result);
      this.inFlight--;
      pin.release();
      this.services.onIdle();
    }
  }

  private onClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    clearInterval(this.tickTimer);
    this.aborter.abort();
    this.session?.close();
    if (this.tenantId !== '') this.services.registry.delete(this);
    this.lease?.release();
    this.services.onIdle();
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
