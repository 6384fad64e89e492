import type { EvictionReason, Lease, TenantConfig, WorkspaceHandle } from '@openclaw-mt/core';
import type { TenantUsage } from '@openclaw-mt/core/monitor';
import type { ConnectParams } from '../protocol/connect-params.js';
import type { ErrorShape, EventFrame, RequestFrame } from '../protocol/frames.js';
import type { TenantQuotas } from '../limits/tenant-quotas.js';

/** What a runtime learns when a tenant becomes active. */
export interface ActiveTenant {
  tenantId: string;
  workspace: WorkspaceHandle;
  config: TenantConfig;
  /** The tenant's quotas (operator defaults with the config's `quotas` over them). */
  quotas: TenantQuotas;
}

/** One authenticated client connection, as a runtime sees it. */
export interface SessionContext {
  readonly tenantId: string;
  /** The connection's lease: the tenant stays active while the session is open. */
  readonly lease: Lease;
  /** The client's connect params, without its credentials. */
  readonly connect: Omit<ConnectParams, 'auth'>;
  /** The negotiated protocol version. */
  readonly protocol: number;
  /** The tenant's quotas as they are now (config changes apply to open sessions at once). */
  readonly quotas: TenantQuotas;
  /** Aborted when the client connection closes. */
  readonly signal: AbortSignal;
  /** Pushes an event to this client. */
  sendEvent(frame: EventFrame): void;
  /**
   * Sends a further response to a request already answered: OpenClaw answers some methods (`agent`)
   * twice under one id, first `{ status: "accepted" }`, then the final result. Dropped once the
   * connection is closed.
   */
  sendResponse(requestId: string, response: RuntimeResponse): void;
  /** Closes this client's connection. */
  close(code: number, reason: string): void;
}

/** The answer to one request. */
export type RuntimeResponse = { ok: true; payload: unknown } | { ok: false; error: ErrorShape };

/** A runtime's side of one client connection. */
export interface RuntimeSession {
  /** Fields merged into `hello-ok` (for example `features.methods`, `snapshot`; `server` and `policy` fields are merged under the front door's own connection id and limits). */
  readonly hello?: Record<string, unknown>;
  /**
   * Answers one request. Throw a coded `MultiTenantError` for failures (it is sent as an error frame);
   * return `{ ok: false, error }` to pass an upstream error shape through unchanged.
   */
  handle(request: RequestFrame): Promise<RuntimeResponse>;
  /** The client is gone; release what the session holds. */
  close(): void;
}

/**
 * What turns an active tenant into something that answers frames. The front door authenticates,
 * binds the connection to one tenant and enforces policy; the runtime only ever sees that tenant.
 */
export interface TenantRuntime {
  readonly name: string;
  /** Methods denied by default for this runtime (the operator's policy can still narrow or widen). */
  readonly deniedMethods?: readonly string[];
  /** A tenant became active (throwing aborts the activation). */
  activate?(tenant: ActiveTenant): Promise<void>;
  /** A tenant is leaving memory; stop what `activate` started. */
  deactivate?(tenantId: string, reason: EvictionReason): Promise<void>;
  /** An active tenant's config changed. */
  reconfigure?(tenant: ActiveTenant): Promise<void>;
  /** Opens the runtime's side of a new client connection. */
  openSession(context: SessionContext): Promise<RuntimeSession>;
  /** The gateway is shutting down. */
  close?(): Promise<void>;
  /**
   * What each active tenant's own processes cost the host (memory, CPU, disk), measured now. Runtimes
   * that run a process per tenant implement it; the front door's metrics, stats and monitor show it.
   */
  usage?(): Promise<TenantUsage[]>;
  /**
   * Processes kept ready for tenants (pre-booted OpenClaw cells, primed processes), measured now;
   * the front door's metrics and stats show them beside the tenants' own.
   */
  standby?(): Promise<StandbyUsage>;
}

/** What a runtime's standby processes cost. */
export interface StandbyUsage {
  /** Processes kept ready (pre-booted cells and primed processes). */
  cells: number;
  /** Their resident memory, whole process trees, in bytes. */
  rssBytes: number;
  /** Of it, their anonymous memory (see {@link TenantUsage.anonBytes}), when the runtime measures it. */
  anonBytes?: number;
}
