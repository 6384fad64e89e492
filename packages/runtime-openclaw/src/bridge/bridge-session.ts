import type { ConsolaInstance } from 'consola';
import { isMultiTenantError, MultiTenantError } from '@openclaw-mt/core';
import { CloseCodes, type RuntimeResponse, type RuntimeSession, type SessionContext } from '@openclaw-mt/gateway';
import { OPENCLAW_CONTROL_UI_CLIENT_ID, type RequestFrame } from '@openclaw-mt/gateway/protocol';
import type { OpenClawCell } from '../cell/cell.js';
import { abortableWait } from './abortable-wait.js';
import type { BridgeDevice } from './bridge-device.js';
import { CellConnection, CellHandshakeError } from './cell-connection.js';
import type { CellSpares, SpareProfile } from './cell-spares.js';
import { checkConfigWrite } from '../policy/config-guard.js';
import type { OpenClawMethodPolicy } from '../policy/method-policy.js';
import {
  checkPrivilege,
  privilegeAllows,
  privilegesOf,
  scopesFor,
  type PrivilegeGrants,
  type TenantPrivileges,
} from '../policy/privileges.js';

/** How the bridge behaves; shared by every session of a runtime. */
export interface BridgeSettings {
  /** How long a client's requests may wait for a cold cell. */
  coldStartWaitMs: number;
  /**
   * How long the handshake waits for a cold cell before the front door answers `hello-ok` itself
   * (requests then wait for the cell); at or above `coldStartWaitMs` the handshake waits it all.
   */
  helloHoldMs: number;
  /** The features of the last cell hello seen (one install: every cell offers the same), for hellos given before a cell is up. */
  lastFeatures: { methods?: string[]; events?: string[]; capabilities?: string[] };
  /** The `server` of the last cell hello seen (OpenClaw's version and build), likewise; seeded with the install's version. */
  lastServer: Record<string, unknown>;
  policy: OpenClawMethodPolicy;
  lockedPaths: readonly string[];
  /** The most a client may be granted on its cell (`operator.admin` only for tenants granted it). */
  scopes: readonly string[];
  /** Tenants trusted with `operator.admin` and terminals. */
  privileges: PrivilegeGrants;
  clientVersion: string;
  /** The front door's device identity towards cells (see {@link BridgeDevice}). */
  device?: BridgeDevice;
  log: ConsolaInstance;
}

// Front-door concerns: the front door answers the handshake and sends its own ticks.
const DROPPED_EVENTS = new Set(['connect.challenge', 'tick']);
const DEFAULT_SCOPES = ['operator.read', 'operator.write'];
/** OpenClaw's own startup answer (`GATEWAY_STARTUP_UNAVAILABLE_REASON`), which its clients retry quietly. */
export const STARTING_REASON = 'startup-sidecars';
/** Within OpenClaw's client bounds (100 ms – 2 s); the next attempt is held up to `coldStartWaitMs` again. */
const STARTING_RETRY_AFTER_MS = 1_000;
/** A hold shorter than OpenClaw's quickest client budget (`gateway call`: 10 s from its first connect). */
export const DEFAULT_HELLO_HOLD_MS = 5_000;

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * What a client learns of the cell's software from its hello: the OpenClaw version and build (the
 * Control UI compares the build with its own and reloads on a mismatch) and where its UI comes from.
 */
function serverOf(cellHello: Record<string, unknown>): Record<string, unknown> {
  const server = record(cellHello.server);
  const out: Record<string, unknown> = {};
  for (const key of ['version', 'buildId', 'controlUiBuildSource']) if (typeof server[key] === 'string') out[key] = server[key];
  return out;
}

/** The features a client may use: the cell's methods as far as the policy allows, its events and its capabilities. */
function featuresFor(
  features: { methods?: string[]; events?: string[]; capabilities?: string[] },
  policy: OpenClawMethodPolicy,
  privileges: TenantPrivileges,
): Record<string, unknown> {
  return {
    methods: (features.methods ?? []).filter((method) => policy.allowed(method) && privilegeAllows(method, privileges)),
    events: (features.events ?? []).filter((event) => event !== 'connect.challenge'),
    // What the cell's methods support (`chat.send` routing, model catalog snapshots…): clients adapt their calls to it.
    ...(features.capabilities === undefined ? {} : { capabilities: features.capabilities }),
  };
}

/** The fields of the cell's `hello-ok` a client gets, merged into the front door's own. */
function helloFor(
  cellHello: Record<string, unknown>,
  context: SessionContext,
  policy: OpenClawMethodPolicy,
  privileges: TenantPrivileges,
): Record<string, unknown> {
  const features = record(cellHello.features);
  const auth = record(cellHello.auth);
  const server = serverOf(cellHello);
  const capabilities = strings(features.capabilities);
  const hello: Record<string, unknown> = {
    server,
    features: featuresFor(
      {
        methods: strings(features.methods) ?? [],
        events: strings(features.events) ?? [],
        ...(capabilities === undefined ? {} : { capabilities }),
      },
      policy,
      privileges,
    ),
    snapshot: {
      ...record(cellHello.snapshot),
      tenantId: context.tenantId,
      runtime: 'openclaw',
      ...(typeof server.version === 'string' ? { openclawVersion: server.version } : {}),
    },
    // What the cell granted, without its recovery or device credentials. The client signed in with a
    // token (its gateway token), which tells the Control UI it may keep it for the tab.
    auth: { method: 'token', role: typeof auth.role === 'string' ? auth.role : 'operator', scopes: strings(auth.scopes) ?? [] },
    // The cell's own limits (attachments, session visibility); the front door puts its transport limits over them.
    policy: record(cellHello.policy),
  };
  // Control UI hints pass through; `pluginSurfaceUrls` point at the cell's private port and do not.
  for (const key of ['controlUiWidgetKinds', 'controlUiLinkReaders']) if (cellHello[key] !== undefined) hello[key] = cellHello[key];
  return hello;
}

/** The `hello-ok` fields of a session whose cell is still starting: the features cells of this install offer, as far as allowed. */
function startingHello(context: SessionContext, settings: BridgeSettings, privileges: TenantPrivileges): Record<string, unknown> {
  const profile = bridgeProfile(context.connect as Record<string, unknown>, { scopes: scopesFor(settings.scopes, privileges) });
  return {
    server: settings.lastServer,
    features: featuresFor(settings.lastFeatures, settings.policy, privileges),
    snapshot: { tenantId: context.tenantId, runtime: 'openclaw', starting: true },
    auth: { method: 'token', role: 'operator', scopes: profile.scopes },
  };
}

/** `health` while the tenant's gateway starts: the front door answers, and says so. */
function startingHealth(context: SessionContext): Record<string, unknown> {
  return { ok: true, ts: Date.now(), status: STARTING_REASON, tenantId: context.tenantId, runtime: 'openclaw' };
}

/** What the bridge asks the cell for on behalf of a client: its own scopes within the operator's maximum, its caps, locale and user agent. */
export function bridgeProfile(connect: Record<string, unknown>, settings: Pick<BridgeSettings, 'scopes'>): SpareProfile {
  const scopes = (strings(connect.scopes) ?? DEFAULT_SCOPES).filter((scope) => settings.scopes.includes(scope));
  const caps = strings(connect.caps);
  const locale = typeof connect.locale === 'string' ? connect.locale : undefined;
  const userAgent = typeof connect.userAgent === 'string' ? connect.userAgent : undefined;
  return {
    scopes,
    ...(caps === undefined ? {} : { caps }),
    ...(locale === undefined ? {} : { locale }),
    ...(userAgent === undefined ? {} : { userAgent }),
  };
}

/** The profile of a cell's first spare: a client that asks for nothing in particular. */
export function defaultProfile(settings: Pick<BridgeSettings, 'scopes'>): SpareProfile {
  return bridgeProfile({}, settings);
}

/**
 * Whether a client keeps reconnecting on OpenClaw's startup answer with no deadline of its own:
 * OpenClaw's Control UI does, and builds its whole view (methods, capabilities, model catalog) from
 * the first hello, so it gets the startup answer rather than the front door's early hello while its
 * cell starts. OpenClaw's CLI gives up a few seconds after connecting and keeps the early hello.
 */
function waitsOutStartup(connect: Record<string, unknown>): boolean {
  return record(connect.client).id === OPENCLAW_CONTROL_UI_CLIENT_ID;
}

/** Why a cell is not ready yet, in the words OpenClaw's own clients retry quietly on (see `startingError`). */
const STARTING_REASONS = new Set(['cold-start', 'cell-stopping']);

/**
 * The answer to a client that came while its cell starts: OpenClaw's CLI, TUI and Control UI
 * reconnect quietly (after `retryAfterMs`, at most 2 s) on `UNAVAILABLE` + `retryable` +
 * `details.reason: "startup-sidecars"`, the answer OpenClaw itself gives while it starts, and on
 * nothing else. `details.code` stays `BACKEND_UNAVAILABLE`.
 */
export function startingError(): MultiTenantError {
  return new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway is starting; retry shortly.', {
    retryAfterMs: STARTING_RETRY_AFTER_MS,
    details: { reason: STARTING_REASON },
  });
}

/** `startingError()` for a cell that is starting or stopping; anything else unchanged. */
function asStartingError(error: unknown): unknown {
  if (!isMultiTenantError(error) || !error.retryable) return error;
  const reason = error.details?.reason;
  return typeof reason === 'string' && STARTING_REASONS.has(reason) ? startingError() : error;
}

async function connectToCell(
  cell: OpenClawCell,
  context: SessionContext,
  settings: BridgeSettings,
  spares: CellSpares | undefined,
): Promise<CellConnection> {
  const deadline = Date.now() + settings.coldStartWaitMs;
  const privileges = privilegesOf(settings.privileges, context.tenantId);
  const profile = bridgeProfile(context.connect as Record<string, unknown>, { scopes: scopesFor(settings.scopes, privileges) });
  let spareTried = spares === undefined;
  for (;;) {
    try {
      await cell.waitReady(Math.max(0, deadline - Date.now()), context.signal);
    } catch (error) {
      throw asStartingError(error);
    }
    if (!spareTried) {
      // A warm connection asking for exactly this, already authenticated: no round trip to the cell.
      spareTried = true;
      const spare = await spares!.take(profile, context.signal);
      if (spare !== undefined) return spare;
    }
    const endpoint = cell.endpoint;
    if (endpoint === undefined) continue;
    const startingUp = !cell.accepting;
    try {
      return await CellConnection.open({
        ...endpoint,
        scopes: profile.scopes,
        ...(profile.caps === undefined ? {} : { caps: profile.caps }),
        ...(profile.locale === undefined ? {} : { locale: profile.locale }),
        ...(profile.userAgent === undefined ? {} : { userAgent: profile.userAgent }),
        clientVersion: settings.clientVersion,
        ...(settings.device === undefined ? {} : { device: settings.device }),
        timeoutMs: Math.max(1_000, Math.min(15_000, deadline - Date.now())),
      });
    } catch (error) {
      if (!(error instanceof CellHandshakeError)) throw error;
      const left = deadline - Date.now();
      if (error.retryable && left > 0 && !context.signal.aborted) {
        // Still finishing startup sidecars, or restarting in place: retry within the same budget (while
        // OpenClaw starts, as soon as it says it takes connections).
        const wait = Math.min(left, Math.max(100, error.shape.retryAfterMs ?? 500));
        await abortableWait(wait, context.signal, startingUp ? cell.whenAccepting() : undefined);
        continue;
      }
      if (error.retryable) throw startingError();
      settings.log.warn(`The OpenClaw gateway of ${context.tenantId} refused the bridge: ${error.shape.code}: ${error.shape.message}`);
      if (error.shape.code === 'INVALID_REQUEST')
        throw new MultiTenantError('BAD_REQUEST', `Your OpenClaw gateway refused the connection: ${error.shape.message}`);
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway refused the connection; retry shortly.', {
        retryAfterMs: 5_000,
      });
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
export async function openBridgeSession(
  cell: OpenClawCell,
  context: SessionContext,
  settings: BridgeSettings,
  spares?: CellSpares,
): Promise<RuntimeSession> {
  const role = (context.connect as Record<string, unknown>).role;
  if (role !== undefined && role !== 'operator') {
    throw new MultiTenantError('BAD_REQUEST', `Only operator clients can connect through this gateway (got role "${String(role)}").`, {
      details: { reason: 'role-not-supported' },
    });
  }
  const privileges = privilegesOf(settings.privileges, context.tenantId);
  const connecting = connectToCell(cell, context, settings, spares);
  let connection: CellConnection | undefined;
  if (settings.helloHoldMs >= settings.coldStartWaitMs) connection = await connecting;
  else {
    // A rejection before the hold ends fails the handshake; a cell still starting then gets a session that waits for it.
    await abortableWait(settings.helloHoldMs, context.signal, connecting);
    connection = await Promise.race([connecting, Promise.resolve(undefined)]);
    if (connection === undefined && waitsOutStartup(context.connect as Record<string, unknown>)) {
      // This client reconnects on the startup answer for as long as it takes: its hello is always the cell's own.
      connecting.then(
        (late) => late.close(),
        () => undefined,
      );
      throw startingError();
    }
  }
  let closed = false;
  const detach = cell.attach({ cellLost: (reason, code) => context.close(code ?? CloseCodes.restart, reason) });
  const wire = (opened: CellConnection) => {
    connection = opened;
    const features = record(opened.hello.features);
    settings.lastFeatures.methods = strings(features.methods) ?? settings.lastFeatures.methods;
    settings.lastFeatures.events = strings(features.events) ?? settings.lastFeatures.events;
    settings.lastFeatures.capabilities = strings(features.capabilities) ?? settings.lastFeatures.capabilities;
    const server = serverOf(opened.hello);
    if (Object.keys(server).length > 0) settings.lastServer = server;
    opened.onEvent((event) => {
      if (!DROPPED_EVENTS.has(event.event)) context.sendEvent(event);
    });
    opened.onClosed(() => {
      detach();
      if (closed) return;
      spares?.connectionLost();
      context.close(CloseCodes.restart, 'tenant gateway restarting');
    });
    if (closed || context.signal.aborted) {
      // The client left while we connected.
      closed = true;
      opened.close();
    }
  };
  let ready: Promise<CellConnection>;
  let hello: Record<string, unknown>;
  if (connection !== undefined) {
    wire(connection);
    ready = Promise.resolve(connection);
    hello = helloFor(connection.hello, context, settings.policy, privileges);
  } else {
    ready = connecting.then(
      (opened) => {
        wire(opened);
        return opened;
      },
      (error: unknown) => {
        // Clients reconnect on 1013 and find the cell further along (or its failure).
        if (!closed) context.close(CloseCodes.tryAgainLater, 'tenant gateway starting');
        throw asStartingError(error);
      },
    );
    ready.catch(() => undefined);
    hello = startingHello(context, settings, privileges);
  }

  return {
    hello,
    async handle(request: RequestFrame): Promise<RuntimeResponse> {
      try {
        if (!settings.policy.allowed(request.method)) {
          throw new MultiTenantError('BAD_REQUEST', `${request.method} is not allowed here.`, { details: { reason: 'method-denied' } });
        }
        checkPrivilege(request.method, privileges);
        checkConfigWrite(request.method, request.params, settings.lockedPaths, cell.renderedConfig);
      } catch (error) {
        // Method names and reasons only: what a client needs that the policy refuses, never what it sent.
        const reason = isMultiTenantError(error) ? String(error.details?.reason ?? error.code) : 'error';
        settings.log.debug(`${context.tenantId}: ${request.method} refused by the front door (${reason}).`);
        throw error;
      }
      // The front door is up and the tenant's gateway on its way: what `health` reports until it answers itself.
      if (connection === undefined && request.method === 'health') return { ok: true, payload: startingHealth(context) };
      const cellConnection = connection ?? (await ready);
      // Two-phase methods (`agent`) answer "accepted" first; the final answer follows under the same id.
      const response = await cellConnection.request(request.method, request.params, (later) => context.sendResponse(request.id, later));
      if (!response.ok)
        settings.log.debug(`${context.tenantId}: ${request.method} refused by the tenant's gateway (${response.error.code}).`);
      if (response.ok && (request.method === 'config.set' || request.method === 'config.apply')) {
        await cell
          .restoreLockedConfig()
          .catch((error: unknown) => settings.log.warn(`Restoring locked config keys of ${context.tenantId} failed:`, error));
      }
      return response;
    },
    close() {
      closed = true;
      detach();
      connection?.close();
    },
  };
}
