import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertTenantId } from '@openclaw-mt/core/contracts';
import { audited } from '@openclaw-mt/core/audit';
import { isMultiTenantError, MultiTenantError, type AuditLog } from '@openclaw-mt/core';
import type { ConfigSyncService } from '@openclaw-mt/core/cloud';
import { hostMemory, totalUsage, type Monitor, type TenantUsage } from '@openclaw-mt/core/monitor';
import type { Gateway } from '../gateway.js';
import { listenError } from '../http/listen-error.js';
import { toErrorShape } from '../protocol/error-shape.js';
import type { GatewayMetrics } from './gateway-metrics.js';

/** Default port of the admin endpoint (the gateway's port + 1). */
export const DEFAULT_ADMIN_PORT = 18790;

/** Options of {@link createAdminServer}. */
export interface AdminServerOptions {
  gateway: Gateway;
  metrics: GatewayMetrics;
  /** Bearer token every request but `/healthz` must carry. */
  token: string;
  /** Default `127.0.0.1`: the endpoint is for operators, not the internet. */
  host?: string;
  port?: number;
  sync?: ConfigSyncService;
  monitor?: Monitor;
  audit?: AuditLog;
  /** The model gateway, when one runs: its counters join `/v1/stats` (its metrics are on the same registry). */
  models?: { stats(): unknown };
}

/** A running admin endpoint. */
export interface AdminServer {
  listen(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  readonly server: Server;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 64 * 1024) throw new MultiTenantError('BAD_REQUEST', 'Request body too large.');
  }
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new MultiTenantError('BAD_REQUEST', 'The body must be a JSON object.');
  }
}

/** A path segment with its `%` escapes undone; a malformed escape is the caller's mistake, not a server fault. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new MultiTenantError('BAD_REQUEST', 'The request path has a malformed % escape.');
  }
}

const STATUS: Partial<Record<string, number>> = {
  BAD_REQUEST: 400,
  TENANT_ID_INVALID: 400,
  NOT_FOUND: 404,
  TENANT_BUSY: 409,
  NOT_SUPPORTED: 409,
  BACKEND_UNAVAILABLE: 502,
  CLOSED: 503,
};

/**
 * The gateway's admin HTTP endpoint — live state the CLI and monitoring read: Prometheus `/metrics`,
 * `/v1/stats`, active tenants, evictions, cleanup and config sync. Every request but `/healthz`
 * needs the admin bearer token; it listens on loopback unless told otherwise. Mutations are audited.
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const { gateway, metrics } = options;
  const manager = gateway.manager;
  if (typeof options.token !== 'string' || options.token.length < 16) {
    throw new MultiTenantError('CONFIG_INVALID', 'admin.token: at least 16 characters are required.');
  }

  // What each tenant's own processes cost, for runtimes that run some (empty otherwise).
  const usage = async (): Promise<TenantUsage[]> => (gateway.runtime.usage === undefined ? [] : gateway.runtime.usage());

  const stats = async () => {
    const [host, measured] = await Promise.all([hostMemory(), gateway.runtime.usage === undefined ? undefined : usage()]);
    return {
      ...manager.stats(),
      connections: gateway.connectionCount(),
      host,
      ...(measured === undefined ? {} : { cells: { ...totalUsage(measured), perTenant: measured } }),
      ...(gateway.runtime.standby === undefined ? {} : { standby: await gateway.runtime.standby() }),
      ...(options.sync ? { sync: options.sync.status() } : {}),
      ...(options.monitor ? { alerts: options.monitor.activeAlerts() } : {}),
      ...(options.models ? { models: options.models.stats() } : {}),
    };
  };

  const tenants = async () => {
    const connections = new Map(gateway.connectedTenants().map((entry) => [entry.tenantId, entry.connections]));
    const costs = new Map((await usage()).map(({ tenantId, ...cost }) => [tenantId, cost]));
    return manager.activeTenants().map((tenant) => {
      const cost = costs.get(tenant.tenantId);
      return { ...tenant, connections: connections.get(tenant.tenantId) ?? 0, ...(cost === undefined ? {} : { usage: cost }) };
    });
  };

  async function route(request: IncomingMessage, actor: string): Promise<[number, unknown] | [number, string, string]> {
    const url = new URL(request.url ?? '/', 'http://admin.invalid');
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && path === '/metrics') return [200, await metrics.render(), metrics.registry.contentType];
    if (method === 'GET' && path === '/v1/stats') return [200, await stats()];
    if (method === 'GET' && path === '/v1/tenants') return [200, { tenants: await tenants() }];
    if (method === 'GET' && path === '/v1/alerts') return [200, { alerts: options.monitor?.activeAlerts() ?? [] }];
    const tenantMatch = /^\/v1\/tenants\/([^/]+)(\/evict)?$/.exec(path);
    if (tenantMatch) {
      const tenantId = assertTenantId(decodePathSegment(tenantMatch[1]!));
      if (method === 'GET' && tenantMatch[2] === undefined) {
        const found = (await tenants()).find((tenant) => tenant.tenantId === tenantId);
        return [200, found ?? { tenantId, active: false }];
      }
      if (method === 'POST' && tenantMatch[2] === '/evict') {
        const body = await readBody(request);
        const force = body.force === true;
        const evicted = await audited(options.audit, { actor, action: 'tenant.evict', tenantId, details: { force } }, () =>
          manager.evict(tenantId, { force }),
        );
        return [200, { tenantId, evicted }];
      }
    }
    if (method === 'POST' && path === '/v1/cleanup') {
      const evicted = await audited(
        options.audit,
        (count: number) => ({ actor, action: 'tenant.cleanup', details: { evicted: count } }),
        () => manager.evictIdle(),
      );
      return [200, { evicted }];
    }
    if (method === 'POST' && path === '/v1/sync') {
      const sync = options.sync;
      if (sync === undefined) throw new MultiTenantError('NOT_SUPPORTED', 'No Cloud Backend is configured, so there is nothing to sync.');
      const result = await sync.syncNow();
      await options.audit
        ?.append({
          at: Date.now(),
          actor,
          action: 'config.sync',
          result: result.ok ? 'ok' : 'error',
          ...(result.error ? { code: result.error.code } : {}),
          details: { applied: result.applied, pages: result.pages },
        })
        .catch(() => undefined);
      const body = {
        ok: result.ok,
        applied: result.applied,
        pages: result.pages,
        rejected: result.rejected,
        notModified: result.notModified,
        ...(result.error ? { error: result.error.toJSON() } : {}),
      };
      return [result.ok ? 200 : 502, body];
    }
    throw new MultiTenantError('NOT_FOUND', `No admin route ${method} ${path}.`);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (request.url === '/healthz') return send(200, { ok: true });
    const header = request.headers.authorization;
    const given = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (given === undefined || !sameSecret(given, options.token)) {
      response.setHeader('www-authenticate', 'Bearer');
      return send(401, { error: { code: 'UNAUTHORIZED', message: 'The admin token is missing or wrong.' } });
    }
    try {
      const [status, body, type] = await route(request, `admin-api:${request.socket.remoteAddress ?? 'unknown'}`);
      send(status, body, type);
    } catch (error) {
      const shape = toErrorShape(error);
      send(isMultiTenantError(error) ? (STATUS[error.code] ?? 500) : 500, { error: shape });
    }
  }

  const server = createServer((request, response) => void handle(request, response));
  return {
    server,
    async listen() {
      const port = options.port ?? DEFAULT_ADMIN_PORT;
      await new Promise<void>((resolve, reject) => {
        const fail = (error: unknown) => reject(listenError('admin endpoint', options.host ?? '127.0.0.1', port, error));
        server.once('error', fail);
        server.listen(port, options.host ?? '127.0.0.1', () => {
          server.off('error', fail);
          resolve();
        });
      });
      const bound = (server.address() as AddressInfo).port;
      const host = options.host ?? '127.0.0.1';
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, port: bound };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
