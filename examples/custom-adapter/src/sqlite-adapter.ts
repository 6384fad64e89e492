import {
  defaultWorkspaceTemplate,
  resolveWorkspaceLimits,
  type ConfigSource,
  type TokenStore,
  type WorkspaceLimits,
  type WorkspaceStore,
  type WorkspaceTemplate,
} from '@openclaw-mt/core';
import { DEFAULT_CHANGE_LOG_RETENTION_MS } from './change-log-pruner.js';
import { openDatabase } from './database.js';
import { createSqliteConfigSource } from './sqlite-config-source.js';
import { createSqliteTokenStore } from './sqlite-token-store.js';
import { createSqliteWorkspaceStore } from './sqlite-workspace-store.js';

/** Options of {@link createSqliteAdapter}. */
export interface SqliteAdapterOptions {
  /** The SQLite file holding tokens, configs and workspaces; created when missing. */
  filename: string;
  /** What new workspaces start with (default: core's built-in template). */
  template?: WorkspaceTemplate;
  /** Per-file and per-tenant byte limits (default: core's 10 MiB / 100 MiB). */
  limits?: Partial<WorkspaceLimits>;
  /** How often `watch` polls the change logs, in ms (default 250). */
  pollIntervalMs?: number;
  /** How long change-log rows are kept for lagging watchers, in ms (default 15 minutes). */
  changeLogRetentionMs?: number;
  /** How long a writer waits for another process's write lock, in ms (default 5,000). */
  busyTimeoutMs?: number;
}

/** The three stores of the SQLite adapter, ready to spread into `new TenantManager({ ... })`. */
export interface SqliteAdapter {
  tokens: TokenStore;
  configs: ConfigSource;
  workspaces: WorkspaceStore;
  /** Closes the three stores and, with them, the database connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * An openclaw-mt storage adapter on one SQLite file, written from core's public contracts.
 * Several adapters (in one process or many) may share a file: writes are serialised by SQLite's
 * write lock (`BEGIN IMMEDIATE` + busy timeout) and `watch` follows a shared change log.
 *
 * @example
 * const adapter = createSqliteAdapter({ filename: '/var/lib/openclaw-mt/tenants.sqlite' });
 * const manager = new TenantManager({ tokens: adapter.tokens, configs: adapter.configs, workspaces: adapter.workspaces });
 */
export function createSqliteAdapter(options: SqliteAdapterOptions): SqliteAdapter {
  // Validate everything before touching the file, so bad options leave nothing behind.
  const limits = resolveWorkspaceLimits(options.limits);
  const template = options.template ?? defaultWorkspaceTemplate();
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const changeLogRetentionMs = options.changeLogRetentionMs ?? DEFAULT_CHANGE_LOG_RETENTION_MS;

  const shared = openDatabase({ filename: options.filename, ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) });
  const tokens = createSqliteTokenStore(shared, { pollIntervalMs, changeLogRetentionMs });
  const configs = createSqliteConfigSource(shared, { pollIntervalMs, changeLogRetentionMs });
  const workspaces = createSqliteWorkspaceStore(shared, { template, limits });

  return {
    tokens,
    configs,
    workspaces,
    async close() {
      // Each store releases its share of the connection; the last one closes it.
      await Promise.all([tokens.close?.(), configs.close?.(), workspaces.close?.()]);
    },
  };
}
