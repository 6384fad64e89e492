import { MultiTenantError, assertTenantId, createLogger, type ClaimOptions, type Coordinator, type TenantClaim } from '@openclaw-mt/core';
import { CLAIM_LEASE, RELEASE_LEASE, RENEW_LEASE } from './scripts/lease-scripts.js';
import { integerOption, openStore, type RedisStoreOptions } from './store-options.js';

/** A {@link Coordinator} with `close`, as the Redis coordinator provides. */
export type RedisCoordinator = Coordinator & Required<Pick<Coordinator, 'close'>>;

/** Options for {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions extends RedisStoreOptions {
  /** This node's id, unique in the fleet (shown to other nodes in `LEASE_HELD`). */
  nodeId: string;
  /** Lease lifetime without renewal. Default 15 s. */
  leaseTtlMs?: number;
  /** How often held leases are renewed. Default a third of `leaseTtlMs`. */
  renewIntervalMs?: number;
  /** Longest `retryAfterMs` suggested with `LEASE_HELD` (the holder may release any moment). Default 250 ms. */
  retryHintMs?: number;
}

interface Held {
  claim: TenantClaim;
  value: string;
  timer: NodeJS.Timeout | undefined;
  onLost: ClaimOptions['onLost'];
}

const NODE_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * Leases in Redis: at most one node holds a tenant. A claim sets `<prefix>:{<tenant>}:lease` to
 * `<fence>:<owner>` with a TTL and increments the tenant's fence counter, in one Lua script; while a
 * claim is held it is renewed every `renewIntervalMs` by compare-and-expire, and `onLost` is called
 * once when a renewal finds it gone (taken over, or expired while Redis was unreachable). Release is
 * compare-and-delete. The fence goes with the claim to the workspace store, which refuses writes
 * carrying an older fence.
 */
export function createRedisCoordinator(options: RedisCoordinatorOptions): RedisCoordinator {
  if (typeof options.nodeId !== 'string' || !NODE_ID.test(options.nodeId)) {
    throw new MultiTenantError('CONFIG_INVALID', 'nodeId: expected 1–200 printable ASCII characters without spaces.');
  }
  const ttlMs = integerOption(options.leaseTtlMs, 15_000, 'leaseTtlMs', 100);
  const renewMs = integerOption(options.renewIntervalMs, Math.max(1, Math.floor(ttlMs / 3)), 'renewIntervalMs', 1);
  const retryHintMs = integerOption(options.retryHintMs, 250, 'retryHintMs', 1);
  const { keys, connection, release: releaseConnection } = openStore(options);
  const logger = options.logger ?? createLogger({ tag: 'openclaw-mt:redis' });
  const nodeId = options.nodeId;
  const held = new Map<string, Held>();
  let closed = false;

  const idOf = (claim: TenantClaim): string => `${claim.tenantId}\0${claim.fence}`;
  const valueOf = (claim: TenantClaim): string => `${claim.fence}:${claim.owner}`;

  function lose(entry: Held, reason: string): void {
    if (held.get(idOf(entry.claim)) !== entry) return;
    held.delete(idOf(entry.claim));
    if (entry.timer) clearTimeout(entry.timer);
    try {
      entry.onLost?.(entry.claim, reason);
    } catch (error) {
      logger.warn(`onLost of ${entry.claim.tenantId} threw.`, error instanceof Error ? error.message : String(error));
    }
  }

  function schedule(entry: Held, delayMs: number): void {
    entry.timer = setTimeout(() => void renew(entry), delayMs);
    entry.timer.unref();
  }

  async function renew(entry: Held): Promise<void> {
    if (held.get(idOf(entry.claim)) !== entry) return;
    const started = Date.now();
    try {
      const renewed = await connection.run<number>(RENEW_LEASE, [keys.lease(entry.claim.tenantId)], [entry.value, String(ttlMs)]);
      if (held.get(idOf(entry.claim)) !== entry) return;
      if (renewed !== 1) return lose(entry, 'the lease was taken over or expired');
      // Measured from before the request: the lease lives at least this long in Redis.
      entry.claim.expiresAt = started + ttlMs;
      schedule(entry, renewMs);
    } catch {
      if (held.get(idOf(entry.claim)) !== entry) return;
      const left = entry.claim.expiresAt - Date.now();
      if (left <= 0) return lose(entry, 'the lease expired while Redis was unreachable');
      // Keep trying, faster, until the lease would have lapsed.
      schedule(entry, Math.max(20, Math.min(renewMs, Math.floor(left / 3))));
    }
  }

  return {
    nodeId,
    async claim(tenantId, claimOptions = {}) {
      assertTenantId(tenantId);
      if (closed) throw new MultiTenantError('CLOSED', 'The Redis coordinator is closed.');
      const started = Date.now();
      const reply = await connection.run<unknown[]>(CLAIM_LEASE, [keys.lease(tenantId), keys.fence(tenantId)], [nodeId, String(ttlMs)]);
      if (Number(reply[0]) !== 1) {
        const owner = String(reply[1]);
        const remaining = Number(reply[2]);
        const retryAfterMs = remaining > 0 ? Math.max(1, Math.min(remaining, retryHintMs)) : retryHintMs;
        throw new MultiTenantError('LEASE_HELD', `${tenantId} is active on node ${owner}; retry shortly.`, {
          retryAfterMs,
          details: { tenantId, owner, expiresInMs: remaining > 0 ? remaining : undefined },
        });
      }
      const claim: TenantClaim = { tenantId, owner: nodeId, fence: Number(reply[1]), expiresAt: started + ttlMs };
      const entry: Held = { claim, value: valueOf(claim), timer: undefined, onLost: claimOptions.onLost };
      held.set(idOf(claim), entry);
      schedule(entry, renewMs);
      if (closed) {
        // Closed while claiming: give it straight back.
        held.delete(idOf(claim));
        if (entry.timer) clearTimeout(entry.timer);
        await connection.run(RELEASE_LEASE, [keys.lease(tenantId)], [entry.value]).catch(() => undefined);
        throw new MultiTenantError('CLOSED', 'The Redis coordinator is closed.');
      }
      return claim;
    },
    async release(claim) {
      const entry = held.get(idOf(claim));
      if (entry !== undefined) {
        held.delete(idOf(claim));
        if (entry.timer) clearTimeout(entry.timer);
      }
      assertTenantId(claim.tenantId);
      await connection.run(RELEASE_LEASE, [keys.lease(claim.tenantId)], [valueOf(claim)]);
    },
    async validate(claim) {
      assertTenantId(claim.tenantId);
      const current = await connection.send<string | null>(keys.lease(claim.tenantId), ['GET', keys.lease(claim.tenantId)]);
      return current === valueOf(claim);
    },
    async close() {
      if (closed) return;
      closed = true;
      const remaining = [...held.values()];
      held.clear();
      for (const entry of remaining) if (entry.timer) clearTimeout(entry.timer);
      // Hand leases back so other nodes need not wait for them to expire.
      await Promise.allSettled(remaining.map((entry) => connection.run(RELEASE_LEASE, [keys.lease(entry.claim.tenantId)], [entry.value])));
      await releaseConnection();
    },
  };
}
