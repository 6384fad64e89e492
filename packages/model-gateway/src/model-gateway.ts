import { Agent as HttpAgent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { assertTenantId } from '@openclaw-mt/core/contracts';
import { createLogger, MultiTenantError } from '@openclaw-mt/core';
import { redactText } from '@openclaw-mt/core/tokens';
import { CREDENTIAL_PATTERN, CredentialStore, type IssuedCredential, type ReservedCredential } from './credentials/credential-store.js';
import { listenSocket, listenTcp, type SocketListenOptions, type TcpListenOptions } from './http/listeners.js';
import { limitsProblem, type LimitsFor, type ModelLimits, TenantLimits } from './limits/tenant-limits.js';
import { createModelMetrics, type ModelMetrics, type ModelMetricsOptions } from './metering/model-metrics.js';
import { type ErrorClass, type MeteredRequest, type ProviderUsage, type TenantUsage, UsageLedger } from './metering/usage-ledger.js';
import { type ExchangeContext, handleExchange, type ResolveProviderKey } from './proxy/exchange.js';
import { overriddenNames } from './http/header-rules.js';
import type { ProviderApi } from './providers/provider-apis.js';
import { createProviders, type ProviderConfig } from './providers/provider-registry.js';

/** Where the model gateway logs: any logger with these methods (a consola instance fits). Lines never hold a key, credential or prompt. */
export interface ModelGatewayLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** One finished request of a tenant, for billing or audit (never a key, credential or prompt). */
export interface UsageRecord {
  tenantId: string;
  /** Undefined when the path named no configured provider. */
  providerId?: string;
  /** The status the cell got (499 when it went away first). */
  status: number;
  inputTokens: number;
  outputTokens: number;
  /** The counts are the gateway's estimate: the provider never reported usage (say, the cell aborted first). */
  estimated: boolean;
  errorClass?: ErrorClass;
  durationMs: number;
}

/** Options of {@link createModelGateway}. */
export interface ModelGatewayOptions {
  /** The upstream providers by id; a cell reaches provider `id` at `<origin>/<id>`. */
  providers: Record<string, ProviderConfig>;
  /**
   * A tenant's own key and/or base URL for a provider (the Cloud Backend's `llm_api_key`/`llm_api_base_url`,
   * say); `undefined` or missing fields fall back to the operator's. Called per request: answer from memory.
   * A failure refuses the request (503), never falls back to the operator's key.
   */
  resolve?: ResolveProviderKey;
  /** Operator default limits per tenant. */
  limits?: ModelLimits;
  /** Per-tenant override of `limits`, merged key by key (a `null` lifts a default). Called per request. */
  limitsFor?: LimitsFor;
  /** Largest request body, in bytes (default 32 MiB): larger ones get 413. */
  maxBodyBytes?: number;
  /** How long a provider may stay silent — before its response headers, or between two chunks — in ms (default 300,000). */
  upstreamTimeoutMs?: number;
  /** How long `close()` waits for requests in flight before cutting them (default 10,000 ms). */
  drainTimeoutMs?: number;
  /** How long a request with a reserved credential (`reserve()`) is held before it is answered 503 (default 60,000 ms). */
  reservedHoldMs?: number;
  /** Prometheus metrics, on the host's registry. */
  metrics?: ModelMetricsOptions;
  logger?: ModelGatewayLogger;
  /** Called once per finished request of a known tenant. Runs on the request path: keep it quick, hand off heavy work. */
  onUsage?: (record: UsageRecord) => void;
}

/** Where a shared listener listens. */
export interface ModelGatewayAddress {
  /** `http://host:port` for TCP: what a cell's provider `baseUrl` starts with. */
  origin?: string;
  host?: string;
  port?: number;
  /** The Unix socket path. */
  path?: string;
}

/** A listener for one tenant only: whoever connects to it is that tenant (its credential is still required). */
export interface TenantSocket {
  readonly tenantId: string;
  readonly path: string;
  /**
   * Stops listening and removes the socket file. Requests in flight finish, up to the drain timeout; with
   * `drain: false` their connections are cut at once (a pre-booted cell's held requests, which no provider ever sees).
   */
  close(options?: { drain?: boolean }): Promise<void>;
}

/** The provider block a cell's OpenClaw config gets for one provider (`models.providers.<id>`, without its `models`). */
export interface CellProviderConfig {
  baseUrl: string;
  api: ProviderApi;
  apiKey: string;
}

/** Counters over every tenant. */
export interface ModelGatewayStats extends ProviderUsage {
  /** Tenants with any request counted. */
  tenants: number;
  providers: Record<string, ProviderUsage>;
  /** Requests being answered now. */
  inFlight: number;
  /** Live cell credentials. */
  credentials: number;
  /** Open listeners (shared and per tenant). */
  listeners: number;
}

/** A running model gateway. */
export interface ModelGateway {
  /** Listens on loopback TCP (default `127.0.0.1`, a free port) or, with `path`, on a shared Unix socket. */
  listen(options?: TcpListenOptions | SocketListenOptions): Promise<ModelGatewayAddress>;
  /** Listens on a Unix socket that only `tenantId` may use (default mode 0600). */
  listenFor(tenantId: string, socketPath: string, options?: Omit<SocketListenOptions, 'path'>): Promise<TenantSocket>;
  /** Issues a cell credential for a tenant: shown once, kept as a hash. */
  issue(tenantId: string): IssuedCredential;
  /** Issues a credential for a cell whose tenant is not known yet (a pre-booted cell): refused until assigned. */
  reserve(): ReservedCredential;
  /** Revokes every credential of a tenant (suspension, deletion); returns how many. */
  revokeTenant(tenantId: string): number;
  /** The `models.providers` entries a cell's config gets: every provider, at `origin`, with `credential` as its key. */
  cellProviders(credential: string, origin: string): Record<string, CellProviderConfig>;
  /** One tenant's counters since start, and today's charged tokens. */
  usage(tenantId: string): TenantUsage;
  stats(): ModelGatewayStats;
  /** Stops accepting, waits for requests in flight (up to `drainTimeoutMs`), then cuts what is left. Idempotent. */
  close(): Promise<void>;
}

const DEFAULTS = { maxBodyBytes: 32 * 2 ** 20, upstreamTimeoutMs: 300_000, drainTimeoutMs: 10_000, reservedHoldMs: 60_000 };
const SWEEP_MS = 60_000;
const IDLE_SOCKET_MS = 4_000;

function positive(value: number | undefined, fallback: number, key: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1))
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a whole number ${allowZero ? '≥ 0' : '≥ 1'}.`, { details: { key } });
  return value;
}

function originOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MultiTenantError('CONFIG_INVALID', 'origin: expected an http:// URL such as http://127.0.0.1:8080.', {
      details: { key: 'origin' },
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new MultiTenantError('CONFIG_INVALID', 'origin: expected an http:// URL.', { details: { key: 'origin' } });
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Creates a model gateway: an HTTP endpoint that OpenClaw cells use as their model providers' base URL. A cell
 * presents a per-tenant credential where the provider key would go; the gateway checks it (and the tenant's
 * limits), puts in the real key (the operator's, or the tenant's own from `resolve`) and forwards to the
 * provider's real URL — routing by provider id only — streaming the answer back as it comes while metering it.
 */
export function createModelGateway(options: ModelGatewayOptions): ModelGateway {
  const providers = new Map(
    [...createProviders(options.providers)].map(([id, provider]) => [id, { ...provider, overridden: overriddenNames(provider) }]),
  );
  const problem = limitsProblem(options.limits);
  if (problem !== undefined) throw new MultiTenantError('CONFIG_INVALID', `limits: ${problem}.`, { details: { key: 'limits' } });
  const maxBodyBytes = positive(options.maxBodyBytes, DEFAULTS.maxBodyBytes, 'maxBodyBytes');
  const upstreamTimeoutMs = positive(options.upstreamTimeoutMs, DEFAULTS.upstreamTimeoutMs, 'upstreamTimeoutMs');
  const drainTimeoutMs = positive(options.drainTimeoutMs, DEFAULTS.drainTimeoutMs, 'drainTimeoutMs', true);
  const reservedHoldMs = positive(options.reservedHoldMs, DEFAULTS.reservedHoldMs, 'reservedHoldMs');
  const logger = options.logger ?? createLogger({ tag: 'model-gateway' });
  const operatorKeys = [...providers.values()].flatMap((provider) => (provider.apiKey === undefined ? [] : [provider.apiKey]));
  // Lines are ours and carry no secret; scrubbing them anyway costs little and guards against a future mistake.
  const clean = (message: string) => redactText(message.replace(CREDENTIAL_PATTERN, 'ocmg_[redacted]'), operatorKeys);
  // A consola logger says its level: skip building per-request debug lines it would drop anyway.
  const level = (logger as { level?: unknown }).level;
  const debug = typeof level !== 'number' || level >= 4;

  const credentials = new CredentialStore();
  const limits = new TenantLimits(options.limits ?? {}, options.limitsFor);
  const ledger = new UsageLedger();
  const metrics: ModelMetrics | undefined =
    options.metrics === undefined ? undefined : createModelMetrics(options.metrics, () => credentials.size);
  // Kept-alive upstream sockets are dropped after 4 s idle (sooner if the provider's Keep-Alive hint says so),
  // before a typical server closes them, so a request rarely lands on a socket the provider is closing.
  const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, noDelay: true };
  const agents = {
    http: new HttpAgent(agentOptions as ConstructorParameters<typeof HttpAgent>[0]),
    https: new HttpsAgent(agentOptions as ConstructorParameters<typeof HttpsAgent>[0]),
  };
  const servers = new Set<Server>();
  const inFlight = new Set<() => void>();
  let idle: (() => void) | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;
  const sweep = setInterval(() => limits.sweep(), SWEEP_MS);
  sweep.unref();

  const context: ExchangeContext = {
    providers,
    credentials,
    limits,
    resolve: options.resolve,
    maxBodyBytes,
    upstreamTimeoutMs,
    reservedHoldMs,
    agents,
    closing: () => closing,
    finished(request: MeteredRequest, status, durationMs) {
      ledger.record(request);
      metrics?.finished(request, request.providerId ?? 'unknown');
      if (request.tenantId === undefined) return;
      limits.charge(request.tenantId, request.inputTokens + request.outputTokens);
      if (debug)
        logger.debug(
          clean(
            `${request.tenantId} → ${request.providerId ?? '?'}: ${status}${request.errorClass === undefined ? '' : ` (${request.errorClass})`}, ${request.inputTokens} in / ${request.outputTokens} out${request.estimated ? ' (estimated)' : ''}, ${durationMs.toFixed(1)} ms`,
          ),
        );
      if (options.onUsage === undefined) return;
      try {
        options.onUsage({
          tenantId: request.tenantId,
          ...(request.providerId === undefined ? {} : { providerId: request.providerId }),
          status,
          inputTokens: request.inputTokens,
          outputTokens: request.outputTokens,
          estimated: request.estimated,
          ...(request.errorClass === undefined ? {} : { errorClass: request.errorClass }),
          durationMs,
        });
      } catch (error) {
        logger.warn(clean(`onUsage failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    },
    upstreamAnswered(providerId, seconds) {
      metrics?.upstreamAnswered(providerId, seconds);
    },
    warn: (message) => logger.warn(clean(message)),
    track(abort) {
      inFlight.add(abort);
      metrics?.started();
      return () => {
        if (!inFlight.delete(abort)) return;
        metrics?.ended();
        if (inFlight.size === 0) idle?.();
      };
    },
  };

  const serverFor = (tenantId: string | undefined): Server => {
    const server = createServer({ noDelay: true }, (request: IncomingMessage, response: ServerResponse) => {
      // Once the listener is closing, a kept-alive connection is closed as soon as its request is answered.
      response.once('close', () => {
        if (!server.listening) setImmediate(() => server.closeIdleConnections());
      });
      handleExchange(context, request, response, tenantId);
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    return server;
  };

  const assertOpen = () => {
    if (closing) throw new MultiTenantError('CLOSED', 'The model gateway is closed.');
  };

  const stopServer = (server: Server): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!server.listening) {
        servers.delete(server);
        resolve();
        return;
      }
      server.close(() => {
        servers.delete(server);
        resolve();
      });
      server.closeIdleConnections();
    });

  return {
    async listen(listenOptions = {}) {
      assertOpen();
      const server = serverFor(undefined);
      servers.add(server);
      try {
        if ('path' in listenOptions) {
          await listenSocket(server, listenOptions);
          return { path: listenOptions.path };
        }
        const { host, port } = await listenTcp(server, listenOptions);
        return { host, port, origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
      } catch (error) {
        servers.delete(server);
        throw error;
      }
    },

    async listenFor(tenantId, socketPath, socketOptions = {}) {
      assertOpen();
      assertTenantId(tenantId);
      const server = serverFor(tenantId);
      servers.add(server);
      try {
        await listenSocket(server, { ...socketOptions, path: socketPath });
      } catch (error) {
        servers.delete(server);
        throw error;
      }
      let stopping: Promise<void> | undefined;
      return {
        tenantId,
        path: socketPath,
        close({ drain = true } = {}) {
          stopping ??= (async () => {
            const stopped = stopServer(server);
            const cut = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
            await stopped;
            clearTimeout(cut);
          })();
          if (!drain) server.closeAllConnections();
          return stopping;
        },
      };
    },

    issue(tenantId) {
      assertOpen();
      return credentials.issue(tenantId);
    },

    reserve() {
      assertOpen();
      return credentials.reserve();
    },

    revokeTenant: (tenantId) => credentials.revokeTenant(tenantId),

    cellProviders(credential, origin) {
      const base = originOf(origin);
      return Object.fromEntries(
        [...providers.values()].map((provider) => [
          provider.id,
          { baseUrl: `${base}/${provider.id}`, api: provider.api, apiKey: credential },
        ]),
      );
    },

    usage: (tenantId) => ledger.tenant(tenantId, limits.tokensToday(tenantId)),

    stats: () => ({ ...ledger.totals(), inFlight: inFlight.size, credentials: credentials.size, listeners: servers.size }),

    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(sweep);
        const stopped = Promise.all([...servers].map((server) => stopServer(server)));
        if (inFlight.size > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, drainTimeoutMs);
            idle = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        for (const abort of [...inFlight]) abort();
        for (const server of servers) server.closeAllConnections();
        await stopped;
        agents.http.destroy();
        agents.https.destroy();
      })();
      return closed;
    },
  };
}
