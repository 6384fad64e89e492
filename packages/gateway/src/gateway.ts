import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConsolaInstance } from 'consola';
import { createLogger, MultiTenantError, type EvictionReason, type Lease, type TenantConfig, type TenantManager } from '@openclaw-mt/core';
import { WebSocketServer } from 'ws';
import { ClientConnection, type ConnectionSettings } from './connection/client-connection.js';
import { ConnectionRegistry } from './connection/connection-registry.js';
import { createFleetPort, type FleetPort } from './fleet/fleet-port.js';
import { assertFleetOptions, type FleetOptions } from './fleet/fleet-options.js';
import { forwardHttpToOwner } from './fleet/owner-http.js';
import { openOwnerLink } from './fleet/owner-link.js';
import { fleetRoutes } from './fleet/fleet-routes.js';
import type { GatewayObserver } from './connection/gateway-observer.js';
import { createClientAddressResolver, trustProxyProblem, type TrustProxy } from './http/client-address.js';
import type { HttpRoute, HttpRouteContext } from './http/http-route.js';
import { tenantHttpDoor } from './http/tenant-http-door.js';
import type { TenantHttpExchange } from './http/tenant-http-exchange.js';
import type { TenantHttpRoute } from './http/tenant-http-route.js';
import { listenError } from './http/listen-error.js';
import { refuseUpgrade } from './http/refuse-upgrade.js';
import { AuthRateLimiter, authLockoutError, type AuthRateLimitOptions } from './limits/auth-rate-limiter.js';
import { authenticateCounted } from './limits/counted-authentication.js';
import { credentialFingerprint } from './limits/credential-fingerprint.js';
import { PreAuthBudget, type PreAuthLimitOptions } from './limits/pre-auth-budget.js';
import { RequestRate } from './limits/request-rate.js';
import { DEFAULT_QUOTAS, resolveQuotas, type TenantQuotas } from './limits/tenant-quotas.js';
import { createMethodPolicy, type MethodPolicyOptions } from './policy/method-policy.js';
import { CloseCodes } from './protocol/close-codes.js';
import type { TenantRuntime } from './runtime/tenant-runtime.js';
import { createWorkspaceRuntime } from './runtime/workspace-runtime.js';
import { shuttingDownError } from './connection/shutting-down-error.js';

/** The port the seed's quick start uses. */
export const DEFAULT_PORT = 18789;

/** Options of {@link createGateway}. Only `manager` is required. */
export interface GatewayOptions {
  manager: TenantManager;
  /** What answers a tenant's frames; defaults to the built-in workspace runtime. */
  runtime?: TenantRuntime;
  /** Address to bind (default `127.0.0.1`; use `0.0.0.0` to serve a network). */
  host?: string;
  /** Port (default 18789; 0 picks a free one). */
  port?: number;
  /** Operator defaults for per-tenant quotas; a tenant config's `quotas` overrides them. */
  quotas?: Partial<TenantQuotas>;
  authRateLimit?: AuthRateLimitOptions;
  /** Operator method policy, on top of the runtime's own denials. */
  methods?: MethodPolicyOptions;
  /**
   * Proxies trusted to name the client in `X-Forwarded-For`: `false` (default, none), a hop count, or
   * their addresses/CIDRs. The client address is the right-most one no trusted hop vouches for.
   */
  trustProxy?: TrustProxy;
  /** Bounds on sockets that have not authenticated yet (default 1,024 in all, 128 per address). */
  preAuth?: PreAuthLimitOptions;
  /** How long a client has to complete the handshake (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Largest frame before `hello-ok` (default 64 KiB), enforced as frames are read: larger ones close with 1009. */
  maxPreAuthBytes?: number;
  /** Largest frame after `hello-ok` (default 16 MiB). */
  maxPayloadBytes?: number;
  /** Outbound bytes a client may leave unread before it is dropped (default 32 MiB). */
  maxBufferedBytes?: number;
  /** Requests in flight per connection (default 32). */
  maxInFlight?: number;
  /** How often `tick` events are sent (default 15 s). */
  tickIntervalMs?: number;
  /** How long `close()` waits for in-flight requests (default 10 s). */
  drainTimeoutMs?: number;
  /** Reported in `hello-ok.server.version`. */
  serverVersion?: string;
  /** Receives handshake and request timings (metrics). */
  observer?: GatewayObserver;
  /** Extra HTTP routes on the gateway's port, tried in order (e.g. the Cloud Backend's push route). */
  httpRoutes?: readonly HttpRoute[];
  /**
   * HTTP surfaces of tenants on the gateway's port, tried before `httpRoutes`: each request is
   * authenticated like a WebSocket login, pinned to its tenant and counted against its request quota.
   */
  tenantHttpRoutes?: readonly TenantHttpRoute[];
  /**
   * Joins a fleet: any node accepts any tenant, forwarding sessions to the node that owns the tenant over
   * an internal port guarded by the fleet secret. Needs a manager whose coordinator keeps a node directory.
   */
  fleet?: FleetOptions;
  logger?: ConsolaInstance;
}

/** A running front door. */
export interface Gateway {
  /** Starts listening (and, in a fleet, opens the internal port and joins the directory); resolves with the WebSocket URL. */
  listen(): Promise<{ url: string; host: string; port: number; fleetUrl?: string }>;
  /**
   * Graceful shutdown: refuses new connections, sends every client a `shutdown` event and closes it
   * with 1012, waits for in-flight requests (bounded), then closes the runtime and the manager.
   */
  close(reason?: string): Promise<void>;
  /** Routes an HTTP upgrade from a server you own (for embedding into an existing HTTP server). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** The HTTP server the gateway listens on. */
  readonly server: Server;
  readonly manager: TenantManager;
  readonly runtime: TenantRuntime;
  /** Open, authenticated connections. */
  connectionCount(): number;
  /** Tenants with open connections, and how many each. */
  connectedTenants(): Array<{ tenantId: string; connections: number }>;
}

function bearerOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

const CLOSE_FOR_EVICTION: Partial<Record<EvictionReason, [number, string]>> = {
  revoked: [CloseCodes.policy, 'access revoked'],
  suspended: [CloseCodes.policy, 'account suspended'],
  'lease-lost': [CloseCodes.restart, 'tenant taken over by another node; reconnect'],
  shutdown: [CloseCodes.restart, 'gateway shutting down'],
  manual: [CloseCodes.restart, 'tenant evicted by the operator'],
};

/**
 * Creates the multi-tenant front door: a WebSocket server speaking the OpenClaw Gateway handshake,
 * binding each connection to exactly one tenant through the manager, enforcing per-address auth
 * rate limits and per-tenant quotas, and routing frames to the tenant runtime.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { manager } = options;
  const trustProblem = trustProxyProblem(options.trustProxy ?? false);
  if (trustProblem !== undefined) throw new MultiTenantError('CONFIG_INVALID', `trustProxy: ${trustProblem}.`);
  const clientAddress = createClientAddressResolver(options.trustProxy ?? false);
  const preAuth = new PreAuthBudget(options.preAuth);
  const runtime = options.runtime ?? createWorkspaceRuntime();
  const log = options.logger ?? createLogger({ tag: 'gateway' });
  const registry = new ConnectionRegistry<ClientConnection>();
  // Tenant HTTP requests in flight: what ends a session ends them too (kept apart, so they count as no connection).
  const exchanges = new ConnectionRegistry<TenantHttpExchange>();
  const pending = new Set<ClientConnection>();
  const authLimiter = new AuthRateLimiter(options.authRateLimit);
  const requestRate = new RequestRate();
  const methodAllowed = createMethodPolicy(options.methods, runtime.deniedMethods);
  const defaultQuotas: TenantQuotas = { ...DEFAULT_QUOTAS, ...options.quotas };
  const quotaCache = new Map<string, { version: number; quotas: TenantQuotas }>();
  const settings: ConnectionSettings = {
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    maxPreAuthBytes: options.maxPreAuthBytes ?? 64 * 1024,
    maxPayloadBytes: options.maxPayloadBytes ?? 16 * 1024 * 1024,
    maxBufferedBytes: options.maxBufferedBytes ?? 32 * 1024 * 1024,
    maxInFlight: options.maxInFlight ?? 32,
    tickIntervalMs: options.tickIntervalMs ?? 15_000,
    serverVersion: options.serverVersion ?? 'openclaw-mt',
  };
  const fleet = options.fleet === undefined ? undefined : assertFleetOptions(options.fleet);
  const coordinator = manager.stores.coordinator;
  if (fleet !== undefined && (coordinator?.register === undefined || coordinator.node === undefined)) {
    throw new MultiTenantError('CONFIG_INVALID', 'fleet: needs a coordinator with a node directory (the Redis adapter has one).');
  }
  let epoch = 0;
  let closing: Promise<void> | undefined;
  let idleWaiters: Array<() => void> = [];

  const quotasFor = (lease: Lease): TenantQuotas => {
    const cached = quotaCache.get(lease.tenantId);
    if (cached !== undefined && cached.version === lease.configVersion) return cached.quotas;
    const quotas = resolveQuotas(defaultQuotas, lease.config);
    quotaCache.set(lease.tenantId, { version: lease.configVersion, quotas });
    return quotas;
  };

  const services = {
    manager,
    runtime,
    registry,
    authLimiter,
    requestRate,
    quotasFor,
    methodAllowed,
    revocationEpoch: () => epoch,
    settings,
    log,
    onIdle: () => {
      for (const wake of idleWaiters.splice(0)) wake();
    },
    observer: options.observer,
    fleet:
      fleet === undefined
        ? undefined
        : {
            async openLink(owner: string, client: Parameters<typeof openOwnerLink>[2]) {
              const node = await coordinator!.node!(owner);
              return node === undefined ? undefined : openOwnerLink(node.address, fleet.secret, client, fleet.linkTimeoutMs);
            },
          },
  };

  /**
   * A lowered `connections` quota holds for open sockets too, not only new ones: the newest beyond the
   * limit close at once (1008) and the oldest sessions stay. An invalid `quotas` object was already refused.
   */
  function closeConnectionsOverQuota(tenantId: string, config: TenantConfig): void {
    let limit: number;
    try {
      limit = resolveQuotas(defaultQuotas, config).connections;
    } catch {
      return;
    }
    const closed = registry.closeNewestBeyond(tenantId, limit, CloseCodes.policy, `connection quota lowered to ${limit}`);
    if (closed > 0) log.info(`closed ${closed} connection(s) of ${tenantId}: its connection quota was lowered to ${limit}`);
  }

  manager.hooks.addHooks({
    'tenant:activated': async ({ tenantId, workspace, config }) => {
      await runtime.activate?.({ tenantId, workspace, config, quotas: resolveQuotas(defaultQuotas, config) });
    },
    'tenant:config-updated': async ({ tenantId, config }) => {
      quotaCache.delete(tenantId);
      closeConnectionsOverQuota(tenantId, config);
      const lease = manager.tryAcquire(tenantId);
      if (lease === undefined) return;
      try {
        await runtime.reconfigure?.({ tenantId, workspace: lease.workspace, config, quotas: quotasFor(lease) });
      } finally {
        lease.release();
      }
    },
    'tenant:suspended': ({ tenantId }) => {
      epoch++;
      registry.closeTenant(tenantId, CloseCodes.policy, 'account suspended');
      exchanges.closeTenant(tenantId, CloseCodes.policy, 'account suspended');
    },
    'token:revoked': ({ tokenHash }) => {
      epoch++;
      registry.closeToken(tokenHash, CloseCodes.policy, 'token revoked');
      exchanges.closeToken(tokenHash, CloseCodes.policy, 'token revoked');
    },
    'tenant:evict': async ({ tenantId, reason, cause }) => {
      // The lease lapsed because Redis was unreachable, not because another node took the tenant.
      const close: [number, string] | undefined =
        cause === 'backend-unavailable' ? [CloseCodes.restart, 'redis unavailable; reconnect'] : CLOSE_FOR_EVICTION[reason];
      if (close !== undefined) {
        registry.closeTenant(tenantId, close[0], close[1]);
        exchanges.closeTenant(tenantId, close[0], close[1]);
      }
      await runtime.deactivate?.(tenantId, reason);
    },
    'tenant:evicted': ({ tenantId }) => {
      requestRate.forget(tenantId);
      quotaCache.delete(tenantId);
    },
  });

  // Frames are capped at the pre-auth size as they are read; a connection raises its own cap after hello-ok.
  // A rotation shortens the old token's life to its grace: sessions using it end when the grace does.
  const tokens = manager.stores.tokens;
  async function followRotation(tokenHash: string): Promise<void> {
    const users = () => [...registry.ofToken(tokenHash), ...exchanges.ofToken(tokenHash)];
    if (users().length === 0 || tokens.get === undefined) return;
    try {
      const record = await tokens.get(tokenHash);
      const endsAt = record === undefined || record.status !== 'active' ? Date.now() : record.expiresAt;
      for (const user of users()) user.setExpiry(endsAt);
    } catch (error) {
      log.warn('could not read a rotated token; its sessions keep their previous deadline:', error);
    }
  }
  const unwatchTokens = tokens.watch?.((change) => {
    if (change.type === 'rotated') void followRotation(change.tokenHash);
  });

  const tenantDoor =
    options.tenantHttpRoutes === undefined || options.tenantHttpRoutes.length === 0
      ? undefined
      : tenantHttpDoor(options.tenantHttpRoutes, {
          manager,
          authLimiter,
          requestRate,
          quotasFor,
          exchanges,
          revocationEpoch: () => epoch,
          clientAddress: (request) => clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']),
          closing: () => closing !== undefined,
          ...(fleet === undefined
            ? {}
            : {
                async forwardToOwner(owner, request, response, address) {
                  const node = await coordinator!.node!(owner);
                  if (node === undefined) return false;
                  await forwardHttpToOwner(node.address, fleet.secret, address, request, response);
                  return true;
                },
              }),
          log,
        });
  const routeContext = (request: IncomingMessage): HttpRouteContext => ({
    authenticate: (token) =>
      authenticateCounted(
        authLimiter,
        manager,
        clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']),
        token,
        'A gateway token is required (Authorization: Bearer <token>).',
      ),
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxPreAuthBytes, perMessageDeflate: false });
  const server = createServer((request, response) => {
    if (tenantDoor?.(request, response) === true) return;
    if (options.httpRoutes !== undefined) {
      const context = routeContext(request);
      for (const route of options.httpRoutes) if (route(request, response, context)) return;
    }
    if (request.url === '/healthz') {
      response.writeHead(closing ? 503 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: !closing }));
      return;
    }
    response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    response.end('This is an OpenClaw gateway: connect with a WebSocket client.\n');
  });

  /** Why an upgrade is refused before any WebSocket work, if it is: each refusal costs one HTTP response. */
  function refusalOf(address: string, bearer: string | undefined): [number, MultiTenantError] | undefined {
    if (closing) return [503, shuttingDownError('The gateway is shutting down; reconnect shortly.')];
    const lockedFor = bearer === undefined ? 0 : authLimiter.credentialRetryAfterMs(address, credentialFingerprint(bearer));
    if (lockedFor > 0) return [429, authLockoutError(lockedFor)];
    return undefined;
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']);
    const bearer = bearerOf(request);
    const refusal = refusalOf(address, bearer);
    const leavePreAuth = refusal === undefined ? preAuth.enter(address) : undefined;
    if (refusal !== undefined || leavePreAuth === undefined) {
      const [status, error] = refusal ?? [
        503,
        new MultiTenantError('CAPACITY', 'Too many connections are still authenticating; try again shortly.', {
          retryAfterMs: settings.handshakeTimeoutMs,
          details: { reason: 'pre-auth-limit' },
        }),
      ];
      refuseUpgrade(socket, status, error);
      return;
    }
    // The upgrade may fail inside ws (bad headers) and never call back: the socket's end releases the place.
    socket.once('close', leavePreAuth);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new ClientConnection(ws, services, { connId: randomUUID(), address, bearer, leavePreAuth });
      pending.add(connection);
      ws.once('close', () => pending.delete(connection));
      connection.start();
    });
  }
  server.on('upgrade', handleUpgrade);

  const fleetPort: FleetPort | undefined =
    fleet === undefined
      ? undefined
      : createFleetPort({
          secret: fleet.secret,
          accept(request, socket, head, client) {
            if (closing) {
              socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
              return;
            }
            wss.handleUpgrade(request, socket, head, (ws) => {
              const connection = new ClientConnection(ws, services, {
                connId: randomUUID(),
                address: client.address,
                bearer: client.bearer,
                nonce: client.nonce,
                forwarded: true,
                // The internal link authenticated with the fleet secret: it holds no unauthenticated place.
                leavePreAuth: () => {},
              });
              pending.add(connection);
              ws.once('close', () => pending.delete(connection));
              connection.start();
            });
          },
          ...(tenantDoor === undefined
            ? {}
            : {
                tenantHttp(request: IncomingMessage, response: ServerResponse, address: string) {
                  if (tenantDoor(request, response, address)) return;
                  response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
                },
              }),
          route: fleetRoutes({
            manager,
            connectedTenants: () => registry.tenants(),
            ...(runtime.usage === undefined ? {} : { usage: () => runtime.usage!() }),
          }),
        });

  async function drain(deadline: number): Promise<void> {
    const busy = () => [...pending].some((connection) => connection.inFlight > 0);
    while (busy() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        setTimeout(resolve, 50).unref();
      });
    }
    idleWaiters = [];
  }

  async function shutdown(reason: string): Promise<void> {
    // Stop accepting first; the server's close callback only fires once every socket is gone.
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    unwatchTokens?.();
    server.closeIdleConnections();
    for (const connection of [...pending]) connection.announceShutdown(reason);
    await drain(Date.now() + (options.drainTimeoutMs ?? 10_000));
    for (const connection of [...pending]) connection.close(CloseCodes.restart, reason);
    wss.close();
    await fleetPort?.close();
    await manager.close();
    await runtime.close?.();
    if (server.listening) await stopped;
  }

  return {
    server,
    manager,
    runtime,
    handleUpgrade,
    async listen() {
      const host = options.host ?? '127.0.0.1';
      const port = options.port ?? DEFAULT_PORT;
      await new Promise<void>((resolve, reject) => {
        const fail = (error: unknown) => reject(listenError('gateway', host, port, error));
        server.once('error', fail);
        server.listen(port, host, () => {
          server.off('error', fail);
          resolve();
        });
      });
      const bound = (server.address() as AddressInfo).port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      if (fleet === undefined || fleetPort === undefined) return { url: `ws://${shownHost}:${bound}`, host, port: bound };
      const internalPort = await fleetPort.listen(fleet.host, fleet.port);
      const internalHost = fleet.host.includes(':') ? `[${fleet.host}]` : fleet.host;
      const fleetUrl = fleet.advertise ?? `ws://${internalHost}:${internalPort}`;
      await coordinator!.register!({ address: fleetUrl });
      return { url: `ws://${shownHost}:${bound}`, host, port: bound, fleetUrl };
    },
    close(reason = 'gateway shutting down') {
      closing ??= shutdown(reason);
      return closing;
    },
    connectionCount: () => registry.size,
    connectedTenants: () => registry.tenants(),
  };
}
