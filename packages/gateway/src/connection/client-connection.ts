import { randomBytes } from 'node:crypto';
import type { ConsolaInstance } from 'consola';
import { MultiTenantError, isMultiTenantError, type AuthResult, type Lease, type TenantManager } from '@openclaw-mt/core';
import type { RawData, WebSocket } from 'ws';
import type { ForwardedClient } from '../fleet/owner-link.js';
import { CloseCodes } from '../protocol/close-codes.js';
import { negotiateProtocol, parseConnectParams, type ConnectParams } from '../protocol/connect-params.js';
import { verifyDeviceIdentity } from '../protocol/device-identity.js';
import { forOpenClawControlUi, OPENCLAW_CONTROL_UI_CLIENT_ID } from '../protocol/openclaw-auth-codes.js';
import { toErrorShape } from '../protocol/error-shape.js';
import { errorFrame, eventFrame, okFrame, type EventFrame, type Frame, type RequestFrame } from '../protocol/frames.js';
import { parseRequestFrame, recoverRequestId } from '../protocol/parse-frame.js';
import type { AuthRateLimiter } from '../limits/auth-rate-limiter.js';
import { authenticateCounted } from '../limits/counted-authentication.js';
import type { RequestRate } from '../limits/request-rate.js';
import type { TenantQuotas } from '../limits/tenant-quotas.js';
import type { RuntimeSession, TenantRuntime } from '../runtime/tenant-runtime.js';
import type { ConnectionRegistry, RegisteredConnection } from './connection-registry.js';
import { raiseFrameLimit } from './frame-limit.js';
import type { GatewayObserver } from './gateway-observer.js';
import { shuttingDownError } from './shutting-down-error.js';
import { atDeadline } from './token-deadline.js';

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
  /** In a fleet: opens an internal link to the node that owns a tenant, or `undefined` when it has no address. */
  fleet: { openLink(owner: string, client: ForwardedClient): Promise<WebSocket | undefined> } | undefined;
}

/** What the gateway knows about the socket before any frame arrives. */
export interface ConnectionInfo {
  connId: string;
  address: string;
  /** A token from `Authorization: Bearer` on the upgrade request. */
  bearer: string | undefined;
  /** The challenge nonce, when a forwarding node already sent one to the client. */
  nonce?: string;
  /** The session arrived over the internal link from another node: it is served here or refused, never forwarded again. */
  forwarded?: boolean;
  /** Gives back the socket's place among unauthenticated sockets (at `hello-ok` or close; safe to call twice). */
  leavePreAuth: () => void;
}

type State = 'awaiting-connect' | 'authenticating' | 'open' | 'forwarding' | 'closed';

// Codes a peer may not send in a close frame: a link that ended without one reads as a restart.
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);

function failureCloseCode(error: unknown): number {
  if (!isMultiTenantError(error)) return CloseCodes.internal;
  if (error.retryable) return CloseCodes.tryAgainLater;
  if (error.code === 'CLOSED') return CloseCodes.restart;
  if (error.code === 'INTERNAL') return CloseCodes.internal;
  return CloseCodes.policy;
}

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
  /** Cancels the deadline at which the token stops authenticating (expiry or the end of a rotation grace). */
  private cancelExpiry: (() => void) | undefined;
  private readonly aborter = new AbortController();
  private readonly nonce: string;
  /** The internal link to the owner node while this connection is forwarded. */
  private link: WebSocket | undefined;
  private readonly openedAt = performance.now();

  constructor(
    private readonly socket: WebSocket,
    private readonly services: ConnectionServices,
    readonly info: ConnectionInfo,
  ) {
    this.nonce = info.nonce ?? randomBytes(16).toString('hex');
  }

  /** Sends the challenge and starts listening. */
  start(): void {
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on('close', () => this.onClosed());
    this.socket.on('error', () => {
      // A client that broke the protocol before authenticating gets its close frame, then no more reads
      // (ws resumes reading on the next tick to drain; pausing right after it keeps what is still sent in the kernel).
      if (this.state !== 'open') process.nextTick(() => this.socket.pause());
      this.onClosed();
    });
    this.handshakeTimer = setTimeout(() => {
      if (this.state === 'awaiting-connect' || this.state === 'authenticating') this.close(CloseCodes.policy, 'handshake timeout');
    }, this.services.settings.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    // A forwarded client already has its challenge, from the node it reached.
    if (!this.info.forwarded) this.send(eventFrame('connect.challenge', { nonce: this.nonce, ts: Date.now() }));
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
   * Ends the session when its token stops authenticating: at `expiresAt` (expiry, or the end of a rotation
   * grace), closing with 1008 like a revocation. A later call (a rotation) replaces the deadline.
   */
  setExpiry(expiresAt: number | undefined): void {
    if (this.state === 'closed') return;
    this.cancelExpiry?.();
    this.cancelExpiry = expiresAt === undefined ? undefined : atDeadline(expiresAt, () => this.close(CloseCodes.policy, 'token expired'));
  }

  /**
   * Announces a shutdown: sends the `shutdown` event and refuses new requests, so the gateway can let
   * in-flight ones answer before closing with 1012. A connection still in its handshake is closed now.
   */
  announceShutdown(reason: string): void {
    if (this.state !== 'open' && this.state !== 'forwarding') {
      this.close(CloseCodes.restart, reason);
      return;
    }
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
    if (this.state === 'forwarding') {
      // The owner node checks every frame; this node only carries them.
      if (!this.draining) this.link?.send(data as Buffer, { binary: isBinary });
      return;
    }
    const size = Array.isArray(data) ? data.reduce((sum, part) => sum + part.byteLength, 0) : (data as Buffer).byteLength;
    if (this.state === 'awaiting-connect') {
      if (size > this.services.settings.maxPreAuthBytes) {
        this.close(CloseCodes.tooBig, 'pre-auth frame too large');
        return;
      }
      this.state = 'authenticating';
      void this.handshake(isBinary ? undefined : rawToString(data));
      return;
    }
    if (this.state === 'authenticating') {
      this.close(CloseCodes.policy, 'frame before hello-ok');
      return;
    }
    if (this.state !== 'open') return;
    if (isBinary) {
      this.send(errorFrame('', toErrorShape(new MultiTenantError('BAD_REQUEST', 'Binary frames are not supported.'))));
      return;
    }
    void this.onRequest(rawToString(data));
  }

  private async handshake(text: string | undefined): Promise<void> {
    let requestId = '';
    let clientId: unknown;
    try {
      if (text === undefined) throw new MultiTenantError('BAD_REQUEST', 'The first frame must be a JSON connect request.');
      requestId = recoverRequestId(text) ?? '';
      const frame = parseRequestFrame(text);
      requestId = frame.id;
      if (frame.method !== 'connect') throw new MultiTenantError('BAD_REQUEST', 'The first frame must be a connect request.');
      const params = parseConnectParams(frame.params);
      clientId = params.client?.id;
      const protocol = negotiateProtocol(params);
      const auth = await this.authenticate(params);
      // A signed device identity must verify against this connection's nonce; it grants nothing.
      verifyDeviceIdentity(params, this.nonce);
      // Authenticated: from here the runtime bounds the wait (an OpenClaw cell may take seconds to start).
      clearTimeout(this.handshakeTimer);
      await this.bind(auth, params, protocol, frame.id, text);
      this.services.observer?.handshake?.(performance.now() - this.openedAt, 'ok');
    } catch (error) {
      this.services.observer?.handshake?.(performance.now() - this.openedAt, isMultiTenantError(error) ? error.code : 'INTERNAL');
      if (this.closed) return;
      const shape = toErrorShape(error);
      this.send(errorFrame(requestId, clientId === OPENCLAW_CONTROL_UI_CLIENT_ID ? forOpenClawControlUi(shape) : shape));
      this.close(failureCloseCode(error), isMultiTenantError(error) ? error.code : 'handshake failed');
    }
  }

  private async authenticate(params: ConnectParams): Promise<AuthResult> {
    const { authLimiter, manager } = this.services;
    const fromFrame = params.auth?.token;
    const fromHeader = this.info.bearer;
    if (fromFrame !== undefined && fromHeader !== undefined && fromFrame !== fromHeader) {
      throw new MultiTenantError('BAD_REQUEST', 'The Authorization header and auth.token name different tokens.');
    }
    return authenticateCounted(
      authLimiter,
      manager,
      this.info.address,
      fromFrame ?? fromHeader,
      'A gateway token is required (auth.token or Authorization: Bearer).',
    );
  }

  private async bind(auth: AuthResult, params: ConnectParams, protocol: number, requestId: string, connectText: string): Promise<void> {
    const { manager, registry, runtime } = this.services;
    const epoch = this.services.revocationEpoch();
    let lease: Lease;
    try {
      lease = await manager.acquire(auth.tenantId);
    } catch (error) {
      // Another node serves this tenant: carry the session there, unless it already came from there.
      const owner = isMultiTenantError(error, 'LEASE_HELD') ? error.details?.owner : undefined;
      if (typeof owner !== 'string' || this.info.forwarded || this.services.fleet === undefined) throw error;
      const link = await this.services.fleet.openLink(owner, { nonce: this.nonce, address: this.info.address, bearer: this.info.bearer });
      if (link === undefined) throw error;
      return this.forward(link, connectText);
    }
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
    this.setExpiry(auth.expiresAt);
    // A revocation or suspension that landed while we awaited would have missed this socket: recheck.
    if (this.services.revocationEpoch() !== epoch) {
      const token = params.auth?.token ?? this.info.bearer!;
      await manager.authenticate(token);
      if (this.closed) return;
    }
    const { auth: _credentials, ...connect } = params;
    const quotasFor = this.services.quotasFor;
    this.session = await runtime.openSession({
      tenantId: auth.tenantId,
      lease,
      connect,
      protocol,
      // Read on every use, so a quota change reaches open sessions at once.
      get quotas() {
        return quotasFor(lease);
      },
      signal: this.aborter.signal,
      sendEvent: (frame: EventFrame) => this.send(frame),
      sendResponse: (id, response) => {
        if (this.state === 'open') this.send(response.ok ? okFrame(id, response.payload) : errorFrame(id, response.error));
      },
      close: (code, reason) => this.close(code, reason),
    });
    if (this.closed) return this.session.close();
    const { settings } = this.services;
    // Authenticated: frames up to the full size from now on, and the socket no longer counts as pre-auth.
    raiseFrameLimit(this.socket, settings.maxPayloadBytes);
    this.info.leavePreAuth();
    const { policy: runtimePolicy, server: runtimeServer, ...extra } = this.session.hello ?? {};
    this.send(
      okFrame(requestId, {
        type: 'hello-ok',
        protocol,
        // The runtime may describe the software behind it (OpenClaw's version and build); the connection id is the front door's.
        server: {
          version: settings.serverVersion,
          ...(typeof runtimeServer === 'object' && runtimeServer !== null ? runtimeServer : {}),
          connId: this.info.connId,
        },
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
      return this.send(errorFrame(request.id, toErrorShape(shuttingDownError('The gateway is shutting down; reconnect shortly.'))));
    }
    if (request.method === 'connect') {
      return this.send(errorFrame(request.id, toErrorShape(new MultiTenantError('BAD_REQUEST', 'Already connected.'))));
    }
    if (this.inFlight >= settings.maxInFlight) {
      return this.send(
        errorFrame(
          request.id,
          toErrorShape(
            new MultiTenantError('RATE_LIMITED', `At most ${settings.maxInFlight} requests may be in flight per connection.`, {
              retryAfterMs: 100,
            }),
          ),
        ),
      );
    }
    if (!this.services.methodAllowed(request.method)) {
      this.services.log.debug(`${this.tenantId}: ${request.method} refused by the method policy.`);
      return this.send(
        errorFrame(
          request.id,
          toErrorShape(
            new MultiTenantError('BAD_REQUEST', `${request.method} is not allowed here.`, { details: { reason: 'method-denied' } }),
          ),
        ),
      );
    }
    const quotas = this.services.quotasFor(this.lease!);
    const waitMs = requestRate.take(this.tenantId, quotas.requestsPerMinute);
    if (waitMs > 0) {
      return this.send(
        errorFrame(
          request.id,
          toErrorShape(
            new MultiTenantError('RATE_LIMITED', `At most ${quotas.requestsPerMinute} requests per minute.`, {
              retryAfterMs: waitMs,
              details: { quota: 'requestsPerMinute' },
            }),
          ),
        ),
      );
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

  /**
   * Carries this session to the owner node: the client's connect frame goes over the link as it came,
   * and from then on frames and the close code pass through unchanged, so the client sees one ordinary
   * session. Revocation, quotas and policy are the owner's, as for its own clients.
   */
  private forward(link: WebSocket, connectText: string): void {
    if (this.closed) {
      link.close(CloseCodes.normal);
      return;
    }
    this.link = link;
    this.state = 'forwarding';
    // Authenticated here: full-size frames from now on, and the owner counts the session.
    raiseFrameLimit(this.socket, this.services.settings.maxPayloadBytes);
    this.info.leavePreAuth();
    link.on('message', (data, isBinary) => {
      if (this.socket.readyState !== this.socket.OPEN) return;
      if (this.socket.bufferedAmount > this.services.settings.maxBufferedBytes) return this.close(CloseCodes.policy, 'slow consumer');
      this.socket.send(data as Buffer, { binary: isBinary });
    });
    link.on('close', (code, reason) => {
      if (UNSENDABLE.has(code)) this.close(CloseCodes.restart, 'owner node went away; reconnect');
      else this.close(code, reason.toString('utf8'));
    });
    link.on('error', () => undefined);
    link.send(connectText);
  }

  private onClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.link !== undefined && this.link.readyState <= this.link.OPEN) this.link.close(CloseCodes.normal);
    clearTimeout(this.handshakeTimer);
    this.cancelExpiry?.();
    clearInterval(this.tickTimer);
    this.info.leavePreAuth();
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
