import type { ErrorCode } from '../errors/error-codes.js';
import { isMultiTenantError, MultiTenantError, toMultiTenantError } from '../errors/multi-tenant-error.js';
import { exportTenant } from './export-tenant.js';
import { importTenant } from './import-tenant.js';
import type { MigrationCheckpoint } from './migration-checkpoint.js';
import type { TenantArchive } from './tenant-archive.js';
import { listStoredTenants, type TransferStores } from './transfer-stores.js';
import { verificationError, verifyTenant } from './verify-tenant.js';

/** Refusals of `importTenant` that no retry can change. */
const PERMANENT_REASONS = new Set(['exists', 'token-owner', 'token-differs']);

/** What happened to one tenant. */
export type MigrationOutcome = 'moved' | 'verified' | 'skipped' | 'failed';

/** Reported after each tenant. */
export interface MigrationProgress {
  tenantId: string;
  outcome: MigrationOutcome;
  /** Tenants finished so far (any outcome), of `total`. */
  done: number;
  total: number;
  failed: number;
}

/** A tenant that could not be moved or did not verify. */
export interface MigrationFailure {
  tenantId: string;
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** Options of {@link migrateTenants}. */
export interface MigrateTenantsOptions {
  from: TransferStores;
  to: TransferStores;
  /** Remembers finished tenants so an interrupted run resumes; without it every tenant is compared again. */
  checkpoint?: MigrationCheckpoint;
  onProgress?: (progress: MigrationProgress) => void;
  /** Tenant ids the source stores cannot list (for stores without a listing). */
  tenantIds?: AsyncIterable<string> | Iterable<string>;
  /** Tenants moved at once (default 8). */
  concurrency?: number;
  /** Stop starting new tenants after this many failures (default 25): a dead target should not take an hour to report. */
  maxFailures?: number;
  /**
   * How long one tenant is retried after a transient failure (default 20 s) — long enough for the
   * lease of a killed earlier run (15 s by default) to lapse. 0 disables retries.
   */
  retryForMs?: number;
  /** Stops starting new tenants when aborted; tenants in flight finish. */
  signal?: AbortSignal;
}

/** The outcome of a migration run. `ok` only when every tenant is in the target and verified. */
export interface MigrationReport {
  ok: boolean;
  total: number;
  /** Tenants written in this run (and verified). */
  moved: number;
  /** Tenants already in the target (an earlier run, or equal data), verified in this run. */
  verified: number;
  /** Tenants listed but holding nothing by the time they were read. */
  skipped: number;
  failed: MigrationFailure[];
  /** Whether the run stopped before trying every tenant (`maxFailures` or the signal). */
  stopped: boolean;
}

/**
 * Moves every tenant — ids from configs ∪ workspaces ∪ tokens ∪ `tenantIds` — from one set of stores to
 * another: workspace files, config entry and token records (hashes, so tokens keep authenticating
 * under the same peppers). Each tenant is exported, written where it differs, and verified by reading
 * it back (file digests, config, token records); a mismatch fails that tenant loudly and it is not
 * checkpointed. Tenants the checkpoint lists are only verified. Re-running after a completed run
 * moves nothing and verifies everything. Failures of single tenants do not stop the others; they are
 * in `failed`.
 */
export async function migrateTenants(options: MigrateTenantsOptions): Promise<MigrationReport> {
  const { from, to, checkpoint } = options;
  const concurrency = options.concurrency ?? 8;
  const maxFailures = options.maxFailures ?? 25;
  const retryForMs = options.retryForMs ?? 20_000;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new MultiTenantError('BAD_REQUEST', 'concurrency must be a positive integer.');
  const ids = await listStoredTenants(from, options.tenantIds);
  const done = new Set(checkpoint ? await checkpoint.load() : []);
  const report: MigrationReport = { ok: false, total: ids.length, moved: 0, verified: 0, skipped: 0, failed: [], stopped: false };
  let finished = 0;
  let next = 0;

  const finish = (tenantId: string, outcome: MigrationOutcome) => {
    finished++;
    options.onProgress?.({ tenantId, outcome, done: finished, total: ids.length, failed: report.failed.length });
  };

  async function moveOne(tenantId: string): Promise<MigrationOutcome> {
    let archive: TenantArchive;
    try {
      archive = await exportTenant(from, tenantId);
    } catch (error) {
      if (isMultiTenantError(error, 'TENANT_UNKNOWN')) return 'skipped';
      throw error;
    }
    if (done.has(tenantId)) {
      const mismatches = await verifyTenant(to, archive);
      if (mismatches.length > 0) throw verificationError(tenantId, mismatches);
      return 'verified';
    }
    const result = await importTenant(to, archive, { replace: true });
    await checkpoint?.markDone(tenantId);
    return result.changed ? 'moved' : 'verified';
  }

  /** Runs `work`, retrying transient failures (outages, leases still held) until `retryForMs` is spent. */
  async function withRetries<T>(work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + retryForMs;
    let delay = 250;
    for (;;) {
      try {
        return await work();
      } catch (error) {
        const transient = isMultiTenantError(error) && error.retryable && !PERMANENT_REASONS.has(String(error.details.reason));
        const wait = Math.min(Math.max(isMultiTenantError(error) ? (error.retryAfterMs ?? 0) : 0, delay), 5_000);
        if (!transient || options.signal?.aborted || Date.now() + wait > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  async function worker(): Promise<void> {
    while (next < ids.length) {
      if (report.failed.length >= maxFailures || options.signal?.aborted) {
        report.stopped = true;
        return;
      }
      const tenantId = ids[next++]!;
      let outcome: MigrationOutcome;
      try {
        outcome = await withRetries(() => moveOne(tenantId));
        if (outcome === 'moved') report.moved++;
        else if (outcome === 'verified') report.verified++;
        else report.skipped++;
      } catch (error) {
        const coded = toMultiTenantError(error);
        report.failed.push({ tenantId, code: coded.code, message: coded.message, retryable: coded.retryable });
        outcome = 'failed';
      }
      finish(tenantId, outcome);
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, ids.length)) }, () => worker()));
  } finally {
    await checkpoint?.flush?.();
  }
  report.ok = report.failed.length === 0 && !report.stopped;
  return report;
}
