import { join } from 'node:path';
import { MultiTenantError, type AuditLog, type WorkspaceLimits } from '@openclaw-mt/core';
import type { WorkspaceTemplate } from '@openclaw-mt/core/contracts';
import { createFsAuditLog } from './fs-audit-log.js';
import { createFsConfigSource, type FsConfigSource } from './fs-config-source.js';
import { createFsTokenStore, type FsTokenStore } from './fs-token-store.js';
import { createFsWorkspaceStore, type FsWorkspaceStore } from './fs-workspace-store.js';
import { prepareRootDirectory } from './root-directory.js';

/**
 * Options for {@link createFsAdapter}. Give `dataDir` (roots default to `tokens/`, `configs/` and
 * `workspaces/` inside it), or each root explicitly; an explicit root wins over `dataDir`.
 */
export interface FsAdapterOptions {
  /** One directory for everything. */
  dataDir?: string;
  /** Tenant workspaces (default `<dataDir>/workspaces`). */
  workspaceRoot?: string;
  /** Tenant configs (default `<dataDir>/configs`). */
  configRoot?: string;
  /** Token records (default `<dataDir>/tokens`). */
  tokenRoot?: string;
  /** The audit log (default `<dataDir>/audit`). */
  auditRoot?: string;
  /** An operator template directory for new workspaces (see {@link FsWorkspaceStoreOptions}). */
  templatePath?: string;
  /** A template object instead of `templatePath`. */
  template?: WorkspaceTemplate;
  /** Per-file and per-tenant size limits. */
  limits?: Partial<WorkspaceLimits>;
  /** Longest delay before a watcher reports another process's change (default 200 ms). */
  pollIntervalMs?: number;
}

/** The filesystem stores together. */
export interface FsAdapter {
  tokens: FsTokenStore;
  configs: FsConfigSource;
  workspaces: FsWorkspaceStore;
  audit: AuditLog;
  /** Closes all stores. */
  close(): Promise<void>;
}

function rootFor(explicit: string | undefined, dataDir: string | undefined, name: string, option: string): string {
  if (explicit !== undefined) return explicit;
  if (dataDir !== undefined) return join(dataDir, name);
  throw new MultiTenantError('CONFIG_INVALID', `${option}: required when dataDir is not set.`, { details: { key: option } });
}

/**
 * All three contracts on local disk, for a single host where the gateway and the CLI run as separate
 * processes over the same files. Roots are checked (and created 0700) here, synchronously; a bad
 * root throws `CONFIG_INVALID` naming the option.
 */
export function createFsAdapter(options: FsAdapterOptions): FsAdapter {
  const { dataDir } = options;
  if (dataDir !== undefined) prepareRootDirectory(dataDir, 'dataDir');
  const poll = options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs };
  const tokens = createFsTokenStore({ root: rootFor(options.tokenRoot, dataDir, 'tokens', 'tokenRoot'), ...poll });
  const configs = createFsConfigSource({ root: rootFor(options.configRoot, dataDir, 'configs', 'configRoot'), ...poll });
  const workspaces = createFsWorkspaceStore({
    root: rootFor(options.workspaceRoot, dataDir, 'workspaces', 'workspaceRoot'),
    ...(options.template === undefined ? {} : { template: options.template }),
    ...(options.templatePath === undefined ? {} : { templatePath: options.templatePath }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  const audit = createFsAuditLog({ root: rootFor(options.auditRoot, dataDir, 'audit', 'auditRoot') });
  return {
    tokens,
    configs,
    workspaces,
    audit,
    async close() {
      await Promise.all([tokens.close(), configs.close(), workspaces.close()]);
    },
  };
}
