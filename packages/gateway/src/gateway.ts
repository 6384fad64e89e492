import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConsolaInstance } from 'consola';
import { createLogger, type EvictionReason, type Lease, type TenantManager } from '@openclaw-mt/core';
import { WebSocketServer } from 'ws';
import { ClientConnection, type ConnectionSettings } from './connection/client-connection.js';
import { ConnectionRegistry } from './connection/connection-registry.js';
import type { GatewayObserver } from './connection/gateway-observer.js';
import { AuthRateLimiter, type AuthRateLimitOptions } from './limits/auth-rate-limiter.js';
import { RequestRate } from './limits/request-rate.js';
import { DEFAULT_QUOTAS, resolveQuotas, type TenantQuotas } from './limits/tenant-quotas.js';
import { createMethodPolicy, type MethodPolicyOptions } from './policy/method-policy.js';
import { CloseCodes } from './protocol/close-codes.js';
import type { TenantRuntime } from './runtime/tenant-runtime.js';
import { createWorkspaceRuntime } from './runtime/workspace-runtime.js';

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
  /** Use the first `X-Forwarded-For` address as the client address (only behind a trusted proxy). */
  trustProxy?: boolean;
  /** How long a client has to complete the handshake (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Largest frame before `hello-ok` (default 64 KiB). */
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
  logger?: ConsolaInstance;
}

/** A running front door. */
export interface Gateway {
  /** Starts listening; resolves with the WebSocket URL. */
  listen(): Promise<{ url: string; host: string; port: number }>;
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

function addressOf(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = request.headers['x-forwarded-for'];
  if (trustProxy && typeof forwarded === 'string' && forwarded.length > 0) return forwarded.split(',')[0]!.trim();
  return request.socket.remoteAddress ?? 'unknown';
}

const CLOSE_FOR_EVICTION: Partial<Record<EvictionReason, [number, string]>> = {
  revoked: [CloseCodes.policy, 'access revoked'],
  suspended: [CloseCodes.policy, 'account suspended'],
  'lease-lost': [CloseCodes.restart, 'tenant moved to another node'],
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
  const runtime = options.runtime ?? createWorkspaceRuntime();
  const log = options.logger ?? createLogger({ tag: 'gateway' });
  const registry = new ConnectionRegistry<ClientConnection>();
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
  };

  manager.hooks.addHooks({
    'tenant:activated': async ({ tenantId, workspace, config }) => {
      await runtime.activate?.({ tenantId, workspace, config });
    },
    'tenant:config-updated': async ({ tenantId, config }) => {
      quotaCache.delete(tenantId);
      const lease = manager.tryAcquire(tenantId);
      if (lease === undefined) return;
      try {
        await runtime.reconfigure?.({ tenantId, workspace: lease.workspace, config });
      } finally {
        lease.release();
      }
    },
    'tenant:suspended': ({ tenantId }) => {
      epoch++;
      registry.closeTenant(tenantId, CloseCodes.policy, 'account suspended');
    },
    'token:revoked': ({ tokenHash }) => {
      epoch++;
      registry.closeToken(tokenHash, CloseCodes.policy, 'token revoked');
    },
    'tenant:evict': async ({ tenantId, reason }) => {
      const close = CLOSE_FOR_EVICTION[reason];
      if (close !== undefined) registry.closeTenant(tenantId, close[0], close[1]);
      await runtime.deactivate?.(tenantId, reason);
    },
    'tenant:evicted': ({ tenantId }) => {
      requestRate.forget(tenantId);
      quotaCache.delete(tenantId);
    },
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxPayloadBytes, perMessageDeflate: false });
  const server = createServer((request, response) => {
    if (request.url === '/healthz') {
      response.writeHead(closing ? 503 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: !closing }));
      return;
    }
    response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    response.end('This is an OpenClaw gateway: connect with a WebSocket client.\n');
  });

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = addressOf(request, options.trustProxy ?? false);
    const lockedFor = authLimiter.retryAfterMs(address);
    if (closing || lockedFor > 0) {
      // Refused before any WebSocket work: a locked-out address costs one HTTP response.
      const status = closing ? '503 Service Unavailable' : '429 Too Many Requests';
      const retry = Math.max(1, Math.ceil((closing ? 1_000 : lockedFor) / 1000));
      socket.end(`HTTP/1.1 ${status}\r\nRetry-After: ${retry}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new ClientConnection(ws, services, { connId: randomUUID(), address, bearer: bearerOf(request) });
      pending.add(connection);
      ws.once('close', () => pending.delete(connection));
      connection.start();
    });
  }
  server.on('upgrade', handleUpgrade);

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
    server.closeIdleConnections();
    for (const connection of [...pending]) connection.announceShutdown(reason);
    await drain(Date.now() + (options.drainTimeoutMs ?? 10_000));
    for (const connection of [...pending]) connection.close(CloseCodes.restart, reason);
    wss.close();
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
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? DEFAULT_PORT, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return { url: `ws://${shownHost}:${port}`, host, port };
    },
    close(reason = 'gateway shutting down') {
      closing ??= shutdown(reason);
      return closing;
    },
    connectionCount: () => registry.size,
    connectedTenants: () => registry.tenants(),
  };
}
