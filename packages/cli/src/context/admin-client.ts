import { ErrorCodes, MultiTenantError, type ErrorCode, type OperatorConfig } from '@openclaw-mt/core';
import { ADMIN_TOKEN_ENV, parseAdminSettings } from '@openclaw-mt/gateway/config';
import { readAdminToken, readAdvertisedAdminUrl } from './admin-token.js';

/** Environment variable naming the admin endpoint (`http://127.0.0.1:18790`). */
export const ADMIN_URL_ENV = 'OPENCLAW_MT_ADMIN_URL';

/** A tenant as the running gateway sees it. */
export interface LiveTenant {
  tenantId: string;
  active: boolean;
  pins: number;
  connections: number;
  idleSince?: number;
  configVersion?: number;
  /** The fleet node it is active on, when the whole fleet was asked. */
  node?: string;
  /** What its own processes cost (runtimes with a process per tenant, such as OpenClaw cells). */
  usage?: { rssBytes: number; anonBytes?: number; cpuSeconds: number; diskBytes: number; storedBytes?: number };
}

/** The answer of `POST /v1/sync`. */
export interface SyncAnswer {
  ok: boolean;
  applied: number;
  pages: number;
  rejected: number;
  notModified: boolean;
  error?: { code: string; message: string; retryable?: boolean };
}

/** The running gateway's admin endpoint, as the CLI calls it. */
export interface AdminClient {
  readonly url: string;
  stats(): Promise<Record<string, unknown>>;
  /** Prometheus text. */
  metrics(): Promise<string>;
  tenants(): Promise<LiveTenant[]>;
  tenant(tenantId: string): Promise<LiveTenant>;
  evict(tenantId: string, force: boolean): Promise<{ tenantId: string; evicted: boolean }>;
  cleanup(): Promise<{ evicted: number }>;
  /** Runs a config sync now; a failed sync is an answer (`ok: false`), not an exception. */
  sync(): Promise<SyncAnswer>;
  alerts(): Promise<unknown[]>;
}

/** Options of {@link createAdminClient}. */
export interface AdminClientOptions {
  url: string;
  token: string;
  /** Per-request timeout (default 10 s; sync gets 10 minutes). */
  timeoutMs?: number;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));

function toCode(value: unknown): ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value) ? (value as ErrorCode) : 'INTERNAL';
}

/** The coded error an admin error body carries (`{ error: { code, message, details: { code } } }`). */
function errorFromBody(status: number, body: unknown, url: string): MultiTenantError {
  const shape = (
    body as { error?: { code?: unknown; message?: unknown; details?: { code?: unknown }; retryAfterMs?: unknown } } | undefined
  )?.error;
  const message = typeof shape?.message === 'string' ? shape.message : `The admin endpoint at ${url} answered HTTP ${status}.`;
  const code = shape?.details?.code ?? shape?.code;
  return new MultiTenantError(toCode(code === undefined && status >= 500 ? 'BACKEND_UNAVAILABLE' : code), message, {
    details: { status },
    ...(typeof shape?.retryAfterMs === 'number' ? { retryAfterMs: shape.retryAfterMs } : {}),
  });
}

/** A client of the admin HTTP endpoint (`GET /v1/stats`, `POST /v1/tenants/:id/evict`, …). */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const base = options.url.replace(/\/+$/, '');

  async function call(
    method: 'GET' | 'POST',
    path: string,
    init: { body?: unknown; timeoutMs?: number; accept?: number[] } = {},
  ): Promise<{ status: number; body: unknown; text: string }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(init.timeoutMs ?? options.timeoutMs ?? 10_000),
        redirect: 'error',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).name;
      const what = reason === 'ECONNREFUSED' ? `Nothing is listening at ${base}` : `The gateway is not reachable at ${base} (${reason})`;
      throw new MultiTenantError(
        'BACKEND_UNAVAILABLE',
        `${what}. Is \`openclaw-mt serve\` running? Point the CLI at it with --admin-url or ${ADMIN_URL_ENV}.`,
        {
          cause: error,
          retryAfterMs: 1_000,
        },
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status === 401) {
      throw new MultiTenantError(
        'CONFIG_INVALID',
        `The admin endpoint at ${base} refused the admin token: use the gateway's token (${ADMIN_TOKEN_ENV}, multiTenant.admin.token or <dataDir>/admin-token).`,
      );
    }
    if (!response.ok && !(init.accept ?? []).includes(response.status)) throw errorFromBody(response.status, body, base);
    return { status: response.status, body, text };
  }

  const json = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    (await call(method, path, body === undefined ? {} : { body })).body as T;

  return {
    url: base,
    stats: () => json('GET', '/v1/stats'),
    metrics: async () => (await call('GET', '/metrics')).text,
    tenants: async () =>
      (await json<{ tenants: Array<Omit<LiveTenant, 'active'>> }>('GET', '/v1/tenants')).tenants.map((tenant) => ({
        ...tenant,
        active: true,
      })),
    async tenant(tenantId) {
      const found = await json<Partial<LiveTenant> & { tenantId: string }>('GET', `/v1/tenants/${encodeURIComponent(tenantId)}`);
      return { pins: 0, connections: 0, ...found, active: found.active !== false };
    },
    evict: (tenantId, force) => json('POST', `/v1/tenants/${encodeURIComponent(tenantId)}/evict`, { force }),
    cleanup: () => json('POST', '/v1/cleanup', {}),
    async sync() {
      const { body } = await call('POST', '/v1/sync', { body: {}, timeoutMs: 600_000, accept: [502] });
      return body as SyncAnswer;
    },
    alerts: async () => (await json<{ alerts: unknown[] }>('GET', '/v1/alerts')).alerts,
  };
}

/**
 * Where the admin endpoint is: `--admin-url`, else `$OPENCLAW_MT_ADMIN_URL`, else what a gateway on
 * this host wrote to `<dataDir>/admin-url`, else the config's `admin.bind`/`admin.port`.
 */
export function adminUrlFor(config: OperatorConfig, explicit: string | undefined): string {
  const given = explicit ?? (process.env[ADMIN_URL_ENV] || undefined);
  if (given !== undefined) {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      throw new MultiTenantError('BAD_REQUEST', `--admin-url: "${given}" is not a URL (expected http://127.0.0.1:18790).`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new MultiTenantError('BAD_REQUEST', '--admin-url: expected an http(s) URL.');
    return url.origin;
  }
  // A gateway on this host says where its admin endpoint listens (its port may have been picked at random).
  const advertised = readAdvertisedAdminUrl(config);
  if (advertised !== undefined) return advertised;
  const settings = parseAdminSettings(config.admin);
  if (!settings.enabled) {
    throw new MultiTenantError(
      'BACKEND_UNAVAILABLE',
      'The admin endpoint is disabled (multiTenant.admin.enabled: false); pass --admin-url to reach another gateway.',
    );
  }
  // A wildcard bind is reached on loopback.
  const host = settings.bind === '0.0.0.0' ? '127.0.0.1' : settings.bind === '::' ? '::1' : settings.bind;
  return `http://${host.includes(':') ? `[${host}]` : host}:${settings.port}`;
}

/** The admin client for the gateway the config describes (token from the config, env or `<dataDir>/admin-token`). */
export async function adminClientFor(config: OperatorConfig, explicitUrl: string | undefined): Promise<AdminClient> {
  const url = adminUrlFor(config, explicitUrl);
  const token = await readAdminToken(parseAdminSettings(config.admin), config);
  return createAdminClient({ url, token });
}
