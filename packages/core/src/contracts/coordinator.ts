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

/** Options for {@link Coordinator.claim}. */
export interface ClaimOptions {
  /** Called once if the lease is lost (renewal failed or another node took over). */
  onLost?: (claim: TenantClaim, reason: string) => void;
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
  close?(): Promise<void>;
}
