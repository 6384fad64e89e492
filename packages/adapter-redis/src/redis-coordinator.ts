import {
  MultiTenantError,
  createLogger,
  type ClaimOptions,
  type Coordinator,
  type FleetNode,
  type LeaseLossCause,
  type TenantClaim,
} from '@openclaw-mt/core';
import { assertTenantId } from '@openclaw-mt/core/contracts';
import { CLAIM_LEASE, RELEASE_LEASE, RENEW_LEASE, TAKE_OVER_LEASE } from './scripts/lease-scripts.js';
import { integerOption, openStore, type RedisStoreOptions } from './store-options.js';

/** A {@link Coordinator} with `close`, as the Redis coordinator provides. */
export type RedisCoordinator = Coordinator & Required<Pick<Coordinator, 'close' | 'register' | 'node' | 'nodes' | 'holder'>>;

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
  /** How often a registered node refreshes its directory record. Default 1 s. */
  heartbeatIntervalMs?: number;
  /** A node whose record was not refreshed for this long counts as dead and its leases may be taken over. Default 3 s. */
  nodeTtlMs?: number;
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
  const heartbeatMs = integerOption(options.heartbeatIntervalMs, 1_000, 'heartbeatIntervalMs', 10);
  const nodeTtlMs = integerOption(options.nodeTtlMs, 3_000, 'nodeTtlMs', heartbeatMs * 2);
  const { keys, connection, release: releaseConnection } = openStore(options);
  const logger = options.logger ?? createLogger({ tag: 'openclaw-mt:redis' });
  const nodeId = options.nodeId;
  const held = new Map<string, Held>();
  let closed = false;
  let registered: { record: string; timer: NodeJS.Timeout | undefined } | undefined;

  const idOf = (claim: TenantClaim): string => `${claim.tenantId}\0${claim.fence}`;
  const leaseValue = (claim: TenantClaim): string => `${claim.fence}:${claim.owner}`;

  function lose(entry: Held, reason: string, cause: LeaseLossCause): void {
    if (held.get(idOf(entry.claim)) !== entry) return;
    held.delete(idOf(entry.claim));
    if (entry.timer) clearTimeout(entry.timer);
    try {
      entry.onLost?.(entry.claim, reason, cause);
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
      if (renewed !== 1) return lose(entry, 'the lease was taken over or expired', 'taken-over');
      // Measured from before the request: the lease lives at least this long in Redis.
      entry.claim.expiresAt = started + ttlMs;
      schedule(entry, renewMs);
    } catch {
      if (held.get(idOf(entry.claim)) !== entry) return;
      const left = entry.claim.expiresAt - Date.now();
      if (left <= 0) return lose(entry, 'the lease expired while Redis was unreachable', 'backend-unavailable');
      // Keep trying, faster, until the lease would have lapsed.
      schedule(entry, Math.max(20, Math.min(renewMs, Math.floor(left / 3))));
    }
  }

  async function heartbeat(): Promise<void> {
    if (registered === undefined || closed) return;
    try {
      await connection.send(keys.node(nodeId), ['SET', keys.node(nodeId), registered.record, 'PX', String(nodeTtlMs)]);
      await connection.send(keys.nodes, ['SADD', keys.nodes, nodeId]);
    } catch (error) {
      logger.warn('The fleet heartbeat failed; retrying.', error instanceof Error ? error.message : String(error));
    }
    if (registered === undefined || closed) return;
    registered.timer = setTimeout(() => void heartbeat(), heartbeatMs);
    registered.timer.unref();
  }

  async function readNode(id: string): Promise<FleetNode | undefined> {
    if (!NODE_ID.test(id)) return undefined;
    const raw = await connection.send<string | null>(keys.node(id), ['GET', keys.node(id)]);
    if (raw === null) return undefined;
    try {
      const parsed = JSON.parse(raw) as FleetNode;
      return typeof parsed.address === 'string' && typeof parsed.startedAt === 'number'
        ? { nodeId: id, address: parsed.address, startedAt: parsed.startedAt }
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** A lease whose holder has no live directory record is taken over, with a new fence. */
  async function takeOver(tenantId: string, seen: string, started: number): Promise<TenantClaim | undefined> {
    const reply = await connection.run<unknown[]>(
      TAKE_OVER_LEASE,
      [keys.lease(tenantId), keys.fence(tenantId)],
      [seen, nodeId, String(ttlMs)],
    );
    if (Number(reply[0]) !== 1) return undefined;
    return { tenantId, owner: nodeId, fence: Number(reply[1]), expiresAt: started + ttlMs };
  }

  function hold(claim: TenantClaim, onLost: ClaimOptions['onLost']): Held {
    const entry: Held = { claim, value: leaseValue(claim), timer: undefined, onLost };
    held.set(idOf(claim), entry);
    schedule(entry, renewMs);
    return entry;
  }

  return {
    nodeId,
    async claim(tenantId, claimOptions = {}) {
      assertTenantId(tenantId);
      if (closed) throw new MultiTenantError('CLOSED', 'The Redis coordinator is closed.');
      const started = Date.now();
      const reply = await connection.run<unknown[]>(CLAIM_LEASE, [keys.lease(tenantId), keys.fence(tenantId)], [nodeId, String(ttlMs)]);
      let claim: TenantClaim | undefined;
      if (Number(reply[0]) === 1) {
        claim = { tenantId, owner: nodeId, fence: Number(reply[1]), expiresAt: started + ttlMs };
      } else {
        const owner = String(reply[1]);
        const remaining = Number(reply[2]);
        // Only a registered node takes over: without a directory it cannot tell a dead node from a quiet one.
        if (registered !== undefined && (await readNode(owner)) === undefined) claim = await takeOver(tenantId, String(reply[3]), started);
        if (claim === undefined) {
          const retryAfterMs = remaining > 0 ? Math.max(1, Math.min(remaining, retryHintMs)) : retryHintMs;
          throw new MultiTenantError('LEASE_HELD', `${tenantId} is active on node ${owner}; retry shortly.`, {
            retryAfterMs,
            details: { tenantId, owner, expiresInMs: remaining > 0 ? remaining : undefined },
          });
        }
      }
      const entry = hold(claim, claimOptions.onLost);
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
      await connection.run(RELEASE_LEASE, [keys.lease(claim.tenantId)], [leaseValue(claim)]);
    },
    async validate(claim) {
      assertTenantId(claim.tenantId);
      const current = await connection.send<string | null>(keys.lease(claim.tenantId), ['GET', keys.lease(claim.tenantId)]);
      return current === leaseValue(claim);
    },
    async register(node) {
      if (closed) throw new MultiTenantError('CLOSED', 'The Redis coordinator is closed.');
      if (typeof node?.address !== 'string' || node.address.length === 0 || node.address.length > 500)
        throw new MultiTenantError('CONFIG_INVALID', 'register: expected the internal address of this node.');
      if (registered?.timer) clearTimeout(registered.timer);
      registered = { record: JSON.stringify({ address: node.address, startedAt: Date.now() }), timer: undefined };
      // The first heartbeat is awaited so a node is listed before it serves.
      await connection.send(keys.node(nodeId), ['SET', keys.node(nodeId), registered.record, 'PX', String(nodeTtlMs)]);
      await connection.send(keys.nodes, ['SADD', keys.nodes, nodeId]);
      registered.timer = setTimeout(() => void heartbeat(), heartbeatMs);
      registered.timer.unref();
    },
    node: (id) => readNode(id),
    async holder(tenantId) {
      assertTenantId(tenantId);
      const value = await connection.send<string | null>(keys.lease(tenantId), ['GET', keys.lease(tenantId)]);
      return value === null ? undefined : value.slice(value.indexOf(':') + 1);
    },
    async nodes() {
      const ids = await connection.send<string[]>(keys.nodes, ['SMEMBERS', keys.nodes]);
      const found = await Promise.all(ids.map(async (id) => [id, await readNode(id)] as const));
      const gone = found.filter(([, node]) => node === undefined).map(([id]) => id);
      if (gone.length > 0) await connection.send(keys.nodes, ['SREM', keys.nodes, ...gone]).catch(() => undefined);
      return found.flatMap(([, node]) => (node === undefined ? [] : [node])).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    },
    async close() {
      if (closed) return;
      closed = true;
      const leaving = registered;
      registered = undefined;
      if (leaving?.timer) clearTimeout(leaving.timer);
      const remaining = [...held.values()];
      held.clear();
      for (const entry of remaining) if (entry.timer) clearTimeout(entry.timer);
      // Hand leases back so other nodes need not wait for them to expire.
      await Promise.allSettled(remaining.map((entry) => connection.run(RELEASE_LEASE, [keys.lease(entry.claim.tenantId)], [entry.value])));
      if (leaving !== undefined) {
        // Leave the directory at once rather than when the record expires.
        await Promise.allSettled([
          connection.send(keys.node(nodeId), ['DEL', keys.node(nodeId)]),
          connection.send(keys.nodes, ['SREM', keys.nodes, nodeId]),
        ]);
      }
      await releaseConnection();
    },
  };
}
