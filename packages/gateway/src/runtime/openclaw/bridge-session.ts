import type { ConsolaInstance } from 'consola';
import { MultiTenantError } from '@openclaw-mt/core';
import { CloseCodes } from '../../protocol/close-codes.js';
import type { RequestFrame } from '../../protocol/frames.js';
import type { RuntimeResponse, RuntimeSession, SessionContext } from '../tenant-runtime.js';
import type { OpenClawCell } from './cell.js';
import { abortableWait } from './abortable-wait.js';
import { CellConnection, CellHandshakeError } from './cell-connection.js';
import type { CellSpares, SpareProfile } from './cell-spares.js';
import { checkConfigWrite } from './config-guard.js';
import type { OpenClawMethodPolicy } from './method-policy.js';

/** How the bridge behaves; shared by every session of a runtime. */
export interface BridgeSettings {
  /** How long a handshake may wait for a cold cell. */
  coldStartWaitMs: number;
  policy: OpenClawMethodPolicy;
  lockedPaths: readonly string[];
  /** The most a client may be granted on its cell. */
  scopes: readonly string[];
  clientVersion: string;
  log: ConsolaInstance;
}

// Front-door concerns: the front door answers the handshake and sends its own ticks.
const DROPPED_EVENTS = new Set(['connect.challenge', 'tick']);
const DEFAULT_SCOPES = ['operator.read', 'operator.write'];

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The fields of the cell's `hello-ok` a client gets, merged into the front door's own. */
function helloFor(cellHello: Record<string, unknown>, context: SessionContext, policy: OpenClawMethodPolicy): Record<string, unknown> {
  const features = record(cellHello.features);
  const auth = record(cellHello.auth);
  const server = record(cellHello.server);
  const hello: Record<string, unknown> = {
    features: {
      methods: (strings(features.methods) ?? []).filter((method) => policy.allowed(method)),
      events: (strings(features.events) ?? []).filter((event) => event !== 'connect.challenge'),
    },
    snapshot: {
      ...record(cellHello.snapshot),
      tenantId: context.tenantId,
      runtime: 'openclaw',
      ...(typeof server.version === 'string' ? { openclawVersion: server.version } : {}),
    },
    // What the cell granted, without its recovery or device credentials.
    auth: { role: typeof auth.role === 'string' ? auth.role : 'operator', scopes: strings(auth.scopes) ?? [] },
  };
  // Control UI hints pass through; `pluginSurfaceUrls` point at the cell's private port and do not.
  for (const key of ['controlUiWidgetKinds', 'controlUiLinkReaders']) if (cellHello[key] !== undefined) hello[key] = cellHello[key];
  return hello;
}

/** What the bridge asks the cell for on behalf of a client: its own scopes within the operator's maximum, its caps, locale and user agent. */
export function bridgeProfile(connect: Record<string, unknown>, settings: Pick<BridgeSettings, 'scopes'>): SpareProfile {
  const scopes = (strings(connect.scopes) ?? DEFAULT_SCOPES).filter((scope) => settings.scopes.includes(scope));
  const caps = strings(connect.caps);
  const locale = typeof connect.locale === 'string' ? connect.locale : undefined;
  const userAgent = typeof connect.userAgent === 'string' ? connect.userAgent : undefined;
  return { scopes, ...(caps === undefined ? {} : { caps }), ...(locale === undefined ? {} : { locale }), ...(userAgent === undefined ? {} : { userAgent }) };
}

/** The profile of a cell's first spare: a client that asks for nothing in particular. */
export function defaultProfile(settings: Pick<BridgeSettings, 'scopes'>): SpareProfile {
  return bridgeProfile({}, settings);
}

async function connectToCell(cell: OpenClawCell, context: SessionContext, settings: BridgeSettings, spares: CellSpares | undefined): Promise<CellConnection> {
  const deadline = Date.now() + settings.coldStartWaitMs;
  const profile = bridgeProfile(context.connect as Record<string, unknown>, settings);
  let spareTried = spares === undefined;
  for (;;) {
    await cell.waitReady(Math.max(0, deadline - Date.now()), context.signal);
    if (!spareTried) {
      // A warm connection asking for exactly this, already authenticated: no round trip to the cell.
      spareTried = true;
      const spare = await spares!.take(profile, context.signal);
      if (spare !== undefined) return spare;
    }
    const endpoint = cell.endpoint;
    if (endpoint === undefined) continue;
    try {
      return await CellConnection.open({
        ...endpoint,
        scopes: profile.scopes,
        ...(profile.caps === undefined ? {} : { caps: profile.caps }),
        ...(profile.locale === undefined ? {} : { locale: profile.locale }),
        ...(profile.userAgent === undefined ? {} : { userAgent: profile.userAgent }),
        clientVersion: settings.clientVersion,
        timeoutMs: Math.max(1_000, Math.min(15_000, deadline - Date.now())),
      });
    } catch (error) {
      if (!(error instanceof CellHandshakeError)) throw error;
      const left = deadline - Date.now();
      if (error.retryable && left > 0 && !context.signal.aborted) {
        // Still finishing startup sidecars, or restarting in place: retry within the same budget.
        await abortableWait(Math.min(left, Math.max(100, error.shape.retryAfterMs ?? 500)), context.signal);
        continue;
      }
      if (error.retryable) {
        throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway is starting; retry shortly.', {
          retryAfterMs: Math.max(1_000, error.shape.retryAfterMs ?? 2_000),
          details: { reason: 'cold-start' },
        });
      }
      settings.log.warn(`The OpenClaw gateway of ${context.tenantId} refused the bridge: ${error.shape.code}: ${error.shape.message}`);
      if (error.shape.code === 'INVALID_REQUEST') throw new MultiTenantError('BAD_REQUEST', `Your OpenClaw gateway refused the connection: ${error.shape.message}`);
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway refused the connection; retry shortly.', { retryAfterMs: 5_000 });
    }
  }
}

/**
 * Opens the bridge for one client connection: waits (bounded) for the tenant's cell, takes the cell's
 * spare connection when it asked for exactly what this client asks for, or else connects to the
 * cell as the trusted local backend with the cell's private token and the client's own scopes (as
 * far as the operator allows), and returns a session that forwards requests and events both ways.
 * Cold starts beyond the wait budget fail with a retryable `BACKEND_UNAVAILABLE` carrying `retryAfterMs`.
 */
export async function openBridgeSession(cell: OpenClawCell, context: SessionContext, settings: BridgeSettings, spares?: CellSpares): Promise<RuntimeSession> {
  const role = (context.connect as Record<string, unknown>).role;
  if (role !== undefined && role !== 'operator') {
    throw new MultiTenantError('BAD_REQUEST', `Only operator clients can connect through this gateway (got role "${String(role)}").`, {
      details: { reason: 'role-not-supported' },
    });
  }
  const connection = await connectToCell(cell, context, settings, spares);
  let closed = false;
  const detach = cell.attach({ cellLost: (reason) => context.close(CloseCodes.restart, reason) });
  connection.onEvent((event) => {
    if (!DROPPED_EVENTS.has(event.event)) context.sendEvent(event);
  });
  connection.onClosed(() => {
    detach();
    if (closed) return;
    spares?.connectionLost();
    context.close(CloseCodes.restart, 'tenant gateway restarting');
  });
  if (context.signal.aborted) {
    // The client left while we connected.
    closed = true;
    connection.close();
  }

  return {
    hello: helloFor(connection.hello, context, settings.policy),
    async handle(request: RequestFrame): Promise<RuntimeResponse> {
      if (!settings.policy.allowed(request.method)) {
        throw new MultiTenantError('BAD_REQUEST', `${request.method} is not allowed here.`, { details: { reason: 'method-denied' } });
      }
      checkConfigWrite(request.method, request.params, settings.lockedPaths, cell.renderedConfig);
      const response = await connection.request(request.method, request.params);
      if (response.ok && (request.method === 'config.set' || request.method === 'config.apply')) {
        await cell.restoreLockedConfig().catch((error: unknown) => settings.log.warn(`Restoring locked config keys of ${context.tenantId} failed:`, error));
      }
      return response;
    },
    close() {
      closed = true;
      detach();
      connection.close();
    },
  };
}
