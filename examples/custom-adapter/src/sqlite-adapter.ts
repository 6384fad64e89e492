import { statSync } from 'node:fs';
import type { AdapterCheck, ConfigSource, TokenStore, WorkspaceLimits, WorkspaceStore } from '@openclaw-mt/core';
import { defaultWorkspaceTemplate, resolveWorkspaceLimits, type WorkspaceTemplate } from '@openclaw-mt/core/contracts';
import { DEFAULT_CHANGE_LOG_RETENTION_MS } from './change-log-pruner.js';
import { openDatabase, type SharedDatabase } from './database.js';
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
  /** Health findings for `openclaw-mt doctor`: the file's integrity and its permissions. */
  check(): Promise<AdapterCheck[]>;
  /** Closes the three stores and, with them, the database connection. Idempotent. */
  close(): Promise<void>;
}

/** SQLite's own `quick_check` and the file's mode (tenant data must be private to its owner). */
function checkDatabase(db: SharedDatabase['db'], filename: string): AdapterCheck[] {
  // libsql answers a pragma with its rows ([{ quick_check: 'ok' }]) even where better-sqlite3 would unwrap it.
  const answer: unknown = db.pragma('quick_check');
  const row: unknown = Array.isArray(answer) ? answer[0] : answer;
  const integrity = typeof row === 'object' && row !== null ? String(Object.values(row)[0]) : String(row);
  const mode = statSync(filename).mode & 0o777;
  return [
    integrity === 'ok'
      ? { id: 'integrity', status: 'pass', reason: `${filename} passes quick_check` }
      : { id: 'integrity', status: 'fail', reason: `${filename} is damaged (quick_check: ${integrity}); restore it from a backup` },
    (mode & 0o077) === 0
      ? { id: 'permissions', status: 'pass', reason: `${filename} is ${mode.toString(8).padStart(4, '0')}` }
      : {
          id: 'permissions',
          status: 'fail',
          reason: `${filename} has mode ${mode.toString(8).padStart(4, '0')}; tenant data must be private: chmod 600 ${filename}`,
        },
  ];
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

  const shared = openDatabase({
    filename: options.filename,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
  });
  const tokens = createSqliteTokenStore(shared, { pollIntervalMs, changeLogRetentionMs });
  const configs = createSqliteConfigSource(shared, { pollIntervalMs, changeLogRetentionMs });
  const workspaces = createSqliteWorkspaceStore(shared, { template, limits });

  return {
    tokens,
    configs,
    workspaces,
    async check() {
      return checkDatabase(shared.db, shared.filename);
    },
    async close() {
      // Each store releases its share of the connection; the last one closes it.
      await Promise.all([tokens.close?.(), configs.close?.(), workspaces.close?.()]);
    },
  };
}
