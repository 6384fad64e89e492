import type { ErrorCode } from '../errors/error-codes.js';

/** One administrative action: who, what, when, result — never a secret. */
export interface AuditEntry {
  /** Epoch milliseconds. */
  at: number;
  /** Who acted: `cli:<user>@<host>`, `admin-api:<address>`, … */
  actor: string;
  /** What was done: `token.create`, `token.revoke`, `token.rotate`, `tenant.evict`, `config.set`, `tenant.import`, … */
  action: string;
  /** The tenant acted on, when there is one. */
  tenantId?: string;
  /** A secret-free identifier of the object (a token hash prefix, a file count, …). */
  target?: string;
  result: 'ok' | 'error';
  /** The error code when `result` is `error`. */
  code?: ErrorCode;
  /** Extra secret-free facts. */
  details?: Record<string, string | number | boolean>;
}

/** Filters of {@link AuditLog.list}. */
export interface AuditQuery {
  /** At most this many entries (default 100). */
  limit?: number;
  /** Only entries about this tenant. */
  tenantId?: string;
  /** Only entries at or after this epoch millisecond. */
  since?: number;
}

/**
 * Append-only record of administrative actions, kept by the same adapter as the other stores so
 * every process acting on them (gateway, CLI) writes to one log. Entries are validated by
 * `assertAuditEntry` before they are stored; `list` returns the newest first.
 */
export interface AuditLog {
  readonly name: string;
  append(entry: AuditEntry): Promise<void>;
  list(query?: AuditQuery): Promise<AuditEntry[]>;
  close?(): Promise<void>;
}
