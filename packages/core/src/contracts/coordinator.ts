/** Proof that this node may activate a tenant, until `expiresAt` unless renewed. */
export interface TenantClaim {
  tenantId: string;
  /** The node holding the lease. */
  owner: string;
  /** Increases with every new lease on the tenant; writes carrying an older fence are refused. */
  fence: number;
  /** Epoch milliseconds at which the lease lapses without renewal. */
  expiresAt: number;
}

/** Why a lease was lost: another node holds it now, or the store could not be reached to renew it. */
export type LeaseLossCause = 'taken-over' | 'backend-unavailable';

/** Options for {@link Coordinator.claim}. */
export interface ClaimOptions {
  /** Called once if the lease is lost (renewal failed or another node took over). */
  onLost?: (claim: TenantClaim, reason: string, cause?: LeaseLossCause) => void;
}

/** A live gateway node, as the fleet directory lists it. */
export interface FleetNode {
  nodeId: string;
  /** Where other nodes reach this node's internal link (`ws://host:port`). */
  address: string;
  /** Epoch milliseconds at which the node joined. */
  startedAt: number;
}

/**
 * For fleets of gateway nodes: a tenant is active on at most one node at a time. The coordinator
 * renews the leases it grants until they are released, and reports a loss through `onLost`.
 */
export interface Coordinator {
  /** This node's id, as shown to other nodes in `LEASE_HELD` errors. */
  readonly nodeId: string;
  /** Claims a tenant; throws `LEASE_HELD` (with `details.owner` and `retryAfterMs`) if another node holds it. */
  claim(tenantId: string, options?: ClaimOptions): Promise<TenantClaim>;
  /** Gives a claim up; a no-op if it was already lost. */
  release(claim: TenantClaim): Promise<void>;
  /** Whether `claim` is still the current one for its tenant. */
  validate(claim: TenantClaim): Promise<boolean>;
  /**
   * Joins the fleet directory: publishes this node's internal address and heartbeats it until
   * `close`. Once joined, a claim may take over a lease whose holder stopped heartbeating.
   */
  register?(node: { address: string }): Promise<void>;
  /** The live node with this id, or `undefined` when it is gone (or never registered). */
  node?(nodeId: string): Promise<FleetNode | undefined>;
  /** Every live node of the fleet. */
  nodes?(): Promise<FleetNode[]>;
  /** The id of the node holding a tenant's lease, or `undefined` when no node holds it. */
  holder?(tenantId: string): Promise<string | undefined>;
  close?(): Promise<void>;
}
