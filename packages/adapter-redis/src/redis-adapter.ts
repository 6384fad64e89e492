import { createLogger, type WorkspaceLimits } from '@openclaw-mt/core';
import type { WorkspaceTemplate } from '@openclaw-mt/core/contracts';
import { createAnnouncementOutbox } from './announcement-outbox.js';
import { RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
import { createRedisConfigSource, type RedisConfigSource } from './redis-config-source.js';
import { createRedisAuditLog, type RedisAuditLog } from './redis-audit-log.js';
import { createRedisCoordinator, type RedisCoordinator } from './redis-coordinator.js';
import { createRedisTokenStore, type RedisTokenStore } from './redis-token-store.js';
import { createRedisWorkspaceStore, type RedisWorkspaceStore } from './redis-workspace-store.js';
import type { RedisLogger } from './store-options.js';

/** Options for {@link createRedisAdapter}. */
export interface RedisAdapterOptions extends RedisConnectionOptions {
  /** Prepended to every key and channel; nodes of one fleet share it. */
  prefix: string;
  /** Use this connection instead of opening one from `url`, `cluster` or `client`. */
  connection?: RedisConnection;
  /** This node's id, unique in the fleet. */
  nodeId: string;
  /** Node-local directory where open workspaces are materialised. */
  localDir: string;
  /** Files new workspaces start with; defaults to the built-in template. */
  template?: WorkspaceTemplate;
  limits?: Partial<WorkspaceLimits>;
  /** Lease lifetime without renewal. Default 15 s. */
  leaseTtlMs?: number;
  /** How often held leases are renewed. Default a third of `leaseTtlMs`. */
  renewIntervalMs?: number;
  /** How often a registered node refreshes its fleet directory record. Default 1 s. */
  heartbeatIntervalMs?: number;
  /** A node silent for this long counts as dead; its leases may be taken over. Default 3 s. */
  nodeTtlMs?: number;
  /** Watchers re-read the change feeds this often even without announcements (0 disables). Default 5 s. */
  resyncIntervalMs?: number;
  /** Where background failures go. Default: a consola logger. */
  logger?: RedisLogger;
  /**
   * Node-local directory where revocations, suspensions and announcements made while Redis (or the
   * Cluster master they write to) is unreachable wait, fsynced, until Redis answers again; this
   * adapter then delivers them, and so does any other adapter given the same directory (a gateway on
   * the host delivers what a CLI command queued before it exited). Without it such a change fails.
   */
  outboxDir?: string;
}

/** The four Redis stores over one shared connection. */
export interface RedisAdapter {
  tokens: RedisTokenStore;
  configs: RedisConfigSource;
  workspaces: RedisWorkspaceStore;
  coordinator: RedisCoordinator;
  audit: RedisAuditLog;
  /** The shared connection (when the adapter opened it, closed with the last store). */
  connection: RedisConnection;
  /**
   * Resolves once Redis is reachable and the change feeds' starting points are fixed: from then on,
   * watchers see every change. (The adapter keeps retrying in the background until then.)
   */
  ready(): Promise<void>;
  /** Closes the four stores and the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Everything a gateway node needs to join a fleet over Redis: tokens, configs, workspaces and leases
 * on one connection (a single server, a Cluster, or an injected node-redis client). Pass the stores
 * to a `TenantManager`; closing the manager closes them, and the connection closes with the last one.
 *
 * @example
 * ```ts
 * const redis = createRedisAdapter({ url: 'redis://10.0.0.5:6379', prefix: 'ocmt', nodeId: hostname(), localDir: '/var/lib/ocmt' });
 * const manager = new TenantManager(redis);
 * ```
 *
 * A host that forwards sessions to the owner node (the gateway's fleet port) leaves the manager's
 * `leaseWaitMs` at 0: a non-owner then learns the owner at once (`LEASE_HELD`) and forwards, where
 * waiting would only delay every forwarded connect by the wait. Only a host without forwarding
 * gains from waiting for another node to let a tenant go.
 */
export function createRedisAdapter(options: RedisAdapterOptions): RedisAdapter {
  const owned = options.connection === undefined;
  const connection = options.connection ?? new RedisConnection(options, { closeWhenUnused: true });
  const shared = { connection, prefix: options.prefix, ...(options.logger ? { logger: options.logger } : {}) };
  const resync = options.resyncIntervalMs === undefined ? {} : { resyncIntervalMs: options.resyncIntervalMs };
  const stores: Array<{ close(): Promise<void> }> = [];
  const outbox =
    options.outboxDir === undefined
      ? undefined
      : createAnnouncementOutbox({
          dir: options.outboxDir,
          connection,
          logger: options.logger ?? createLogger({ tag: 'openclaw-mt:redis' }),
        });
  if (outbox) stores.push(outbox);
  try {
    const tokens = createRedisTokenStore({ ...shared, ...resync, ...(outbox ? { outbox } : {}) });
    stores.push(tokens);
    const configs = createRedisConfigSource({ ...shared, ...resync, ...(outbox ? { outbox } : {}) });
    stores.push(configs);
    const workspaces = createRedisWorkspaceStore({
      ...shared,
      localDir: options.localDir,
      ...(options.template ? { template: options.template } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    stores.push(workspaces);
    const coordinator = createRedisCoordinator({
      ...shared,
      nodeId: options.nodeId,
      ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
      ...(options.renewIntervalMs === undefined ? {} : { renewIntervalMs: options.renewIntervalMs }),
      ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
      ...(options.nodeTtlMs === undefined ? {} : { nodeTtlMs: options.nodeTtlMs }),
    });
    stores.push(coordinator);
    const audit = createRedisAuditLog(shared);
    stores.push(audit);
    let closing: Promise<void> | undefined;
    return {
      tokens,
      configs,
      workspaces,
      coordinator,
      audit,
      connection,
      async ready() {
        await connection.ready();
        await Promise.all([tokens.ready(), configs.ready()]);
      },
      close() {
        closing ??= (async () => {
          // Write back while the leases are still held, then hand the leases back, then the rest.
          for (const store of [workspaces, coordinator, configs, tokens, audit]) await store.close().catch(() => undefined);
          await outbox?.close();
          if (owned) await connection.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    void Promise.allSettled(stores.map((store) => store.close())).then(() => (owned ? connection.close() : undefined));
    throw error;
  }
}
