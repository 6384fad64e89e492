import type { AuditLog } from './audit-log.js';
import type { ConfigSource } from './config-source.js';
import type { Coordinator } from './coordinator.js';
import type { TokenStore } from './token-store.js';
import type { WorkspaceLimits, WorkspaceStore } from './workspace-store.js';
import type { WorkspaceTemplate } from '../workspace/workspace-template.js';

/** What the host (the CLI, a gateway) gives every adapter it opens, whatever the adapter's own options. */
export interface AdapterContext {
  /** The operator's data directory (absolute): where an adapter may keep local files of its own. */
  dataDir: string;
  /** The directory of the config file (absolute), for resolving relative paths in the adapter's options. */
  configDir: string;
  /** What new workspaces start with (the operator's `templatePath`, else the built-in default). */
  template: WorkspaceTemplate;
  /** The operator's `templatePath`, for adapters that read the directory themselves. */
  templatePath?: string;
  /** The operator's limits; fields left out take the adapter's defaults. */
  limits: Partial<WorkspaceLimits>;
  /** Unique per process: coordinators name this node with it. */
  nodeId: string;
  /** `serve` for a gateway, `tool` for a short CLI command running beside one (keep scratch state apart). */
  role: 'serve' | 'tool';
}

/** One finding of {@link OpenedAdapter.check}, shown by `openclaw-mt doctor`. */
export interface AdapterCheck {
  /** Stable id, shown as `adapter.<id>`. */
  id: string;
  status: 'pass' | 'warn' | 'fail';
  /** What was found and, when it is not `pass`, what to do. Never a secret. */
  reason: string;
}

/** The stores an adapter opened, ready for a `TenantManager`, the gateway or the CLI. */
export interface OpenedAdapter {
  tokens: TokenStore;
  configs: ConfigSource;
  workspaces: WorkspaceStore;
  /** For fleets of gateway nodes; leave out when one node serves every tenant. */
  coordinator?: Coordinator;
  /** Where administrative actions are recorded; without it the CLI and the admin endpoint keep no audit trail. */
  audit?: AuditLog;
  /** A short description for logs, secret-free (`sqlite at /var/lib/tenants.sqlite`). Default: the factory's name. */
  description?: string;
  /** Health findings for `openclaw-mt doctor` (reachability, permissions, versions…). */
  check?(): Promise<AdapterCheck[]>;
  /** Closes every store and connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * How configuration names an adapter: a module's default export is one of these. The built-in adapters
 * (`fs`, `redis`, `memory`) are registered the same way. `open` validates `options` first and throws
 * `CONFIG_INVALID` naming the option, before touching any storage; an unreachable backend is
 * `BACKEND_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * export default defineAdapter({
 *   name: 'sqlite',
 *   async open(options, context) { … return { tokens, configs, workspaces, close }; },
 * });
 * ```
 */
export interface AdapterFactory<Options extends Record<string, unknown> = Record<string, unknown>> {
  /** Short name used in messages (`sqlite`). */
  readonly name: string;
  open(options: Options, context: AdapterContext): Promise<OpenedAdapter>;
}
