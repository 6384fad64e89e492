import type { ConsolaInstance } from 'consola';
import { createHooks, type Hookable } from 'hookable';
import type { ConfigSource, TenantConfigEntry } from '../contracts/config-source.js';
import { configEntryProblem } from '../config/tenant-config.js';
import { MultiTenantError, isMultiTenantError, toMultiTenantError } from '../errors/multi-tenant-error.js';
import type { HookResult, TenantHooks } from '../lifecycle/tenant-hooks.js';
import { createLogger } from '../logging/logger.js';
import { tenantIdProblem } from '../tenants/tenant-id.js';
import { type BackoffOptions, createBackoff } from './backoff.js';
import { type CloudClient, describeIssues } from './cloud-client.js';
import { type CloudClock, systemClock } from './clock.js';
import { type SyncCursorState, type SyncCursorStore, createMemoryCursorStore } from './cursor-store.js';
import { MAX_CONFIGS_PAGE_LIMIT, configUserSchema } from './wire-contract.js';

/** Options of {@link ConfigSyncService}. */
export interface ConfigSyncOptions {
  client: CloudClient;
  /** Where synced entries are kept (any source with `put`: fs, Redis, memory); reads are served from it. */
  lastKnownGood: ConfigSource;
  /** Where the feed position is kept across restarts. Default: in memory (a restart re-reads the feed). */
  cursorStore?: SyncCursorStore;
  /** Pause between successful runs (the seed's `syncIntervalMs`). Default 60 s. */
  syncIntervalMs?: number;
  /** Users asked for per page. Default 500 (at most 1,000). */
  pageLimit?: number;
  /** A run that has not reached the end after this many pages fails (an endless feed). Default 10,000. */
  maxPagesPerRun?: number;
  /** Delays after failed runs: capped exponential with full jitter. */
  backoff?: BackoffOptions;
  /** Uniform random numbers in [0, 1) for the jitter (tests). */
  random?: () => number;
  clock?: CloudClock;
  logger?: ConsolaInstance;
}

/** What one run did. `ok` is false whenever the run did not reach the end of the feed. */
export interface SyncResult {
  ok: boolean;
  /** Entries newer than the stored copy that were stored and pushed on. */
  applied: number;
  /** Feed requests answered (a 304 counts as one). */
  pages: number;
  /** Individual entries refused by validation (their old config stays). */
  rejected: number;
  /** The backend answered 304: nothing changed since the last poll. */
  notModified: boolean;
  /** Why the run failed; the cursor did not move past the failing page. */
  error?: MultiTenantError;
}

/** Hooks of the sync service. `attach` forwards them to a TenantManager. */
export interface ConfigSyncHooks {
  /** An entry newer than the stored copy was stored in the last-known-good source. */
  'sync:applied': (event: { entry: TenantConfigEntry }) => HookResult;
  /** An entry failed validation and was skipped; the tenant keeps its previous config. */
  'sync:rejected': (event: { tenantId: string | undefined; error: MultiTenantError }) => HookResult;
  /** The first failed run of an outage (once per outage). */
  'sync:failed': (event: { error: MultiTenantError; attempt: number }) => HookResult;
  /** The first successful run after an outage. */
  'sync:recovered': (event: { downtimeMs: number }) => HookResult;
}

/** A point-in-time view of the sync, for monitoring and `doctor`. */
export interface ConfigSyncStatus {
  started: boolean;
  healthy: boolean;
  cursor: string | undefined;
  lastAttemptAt: number | undefined;
  lastSuccessAt: number | undefined;
  /** Start of the current outage. */
  failingSince: number | undefined;
  consecutiveFailures: number;
  nextRunAt: number | undefined;
  lastError: { code: string; message: string } | undefined;
  totals: { runs: number; applied: number; rejected: number; pages: number };
}

/** What `attach` needs of a TenantManager. */
export type SyncTarget = { applyConfig(entry: TenantConfigEntry): Promise<void>; hooks: Hookable<TenantHooks> };

interface Progress {
  applied: number;
  pages: number;
  rejected: number;
  notModified: boolean;
}

/**
 * Keeps a last-known-good config source current from the Cloud Backend's config feed
 * (`GET /openclaw/gateway/configs`).
 *
 * A run follows pages to the end with opaque server cursors; validates every page (a structurally bad
 * page fails the run and the cursor stays) and every entry (a bad entry is skipped with
 * `sync:rejected`; its tenant keeps its old config); `put`s entries into the last-known-good source,
 * which keeps only newer versions; announces each stored entry (`sync:applied` → the manager's
 * `applyConfig`); and persists the cursor after every page. With nothing new it sends the last ETag
 * and accepts 304.
 *
 * Runs repeat every `syncIntervalMs`; after a failure, after a capped, fully jittered exponential
 * backoff. An outage raises one `sync:failed` (and one warning) and its end one `sync:recovered`.
 * `syncNow()` never reports success for a run that did not reach the end of the feed.
 */
export class ConfigSyncService {
  readonly hooks: Hookable<ConfigSyncHooks> = createHooks<ConfigSyncHooks>();

  private readonly client: CloudClient;
  private readonly lastKnownGood: ConfigSource & Required<Pick<ConfigSource, 'put'>>;
  private readonly cursorStore: SyncCursorStore;
  private readonly intervalMs: number;
  private readonly pageLimit: number;
  private readonly maxPages: number;
  private readonly backoff: (attempt: number) => number;
  private readonly clock: CloudClock;
  private readonly log: ConsolaInstance;

  private state: SyncCursorState | undefined;
  private loaded = false;
  private started = false;
  private inflight: Promise<SyncResult> | undefined;
  private queued: Promise<SyncResult> | undefined;
  private timer: unknown;
  private nextRunAt: number | undefined;
  private failingSince: number | undefined;
  private failures = 0;
  private lastAttemptAt: number | undefined;
  private lastSuccessAt: number | undefined;
  private lastError: MultiTenantError | undefined;
  private readonly totals = { runs: 0, applied: 0, rejected: 0, pages: 0 };

  constructor(options: ConfigSyncOptions) {
    const lkg = options.lastKnownGood;
    if (typeof lkg?.put !== 'function') {
      throw new MultiTenantError('CONFIG_INVALID', `lastKnownGood: config source "${lkg?.name ?? '?'}" cannot store entries (no put).`);
    }
    this.client = options.client;
    this.lastKnownGood = lkg as ConfigSource & Required<Pick<ConfigSource, 'put'>>;
    this.cursorStore = options.cursorStore ?? createMemoryCursorStore();
    this.intervalMs = positiveInteger(options.syncIntervalMs ?? 60_000, 'syncIntervalMs');
    this.pageLimit = Math.min(positiveInteger(options.pageLimit ?? 500, 'pageLimit'), MAX_CONFIGS_PAGE_LIMIT);
    this.maxPages = positiveInteger(options.maxPagesPerRun ?? 10_000, 'maxPagesPerRun');
    this.backoff = createBackoff(options.backoff, options.random);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? createLogger({ tag: 'openclaw-mt:cloud' });
  }

  /** Starts periodic sync: runs once now (the result is returned) and keeps running until `stop`. */
  async start(): Promise<SyncResult> {
    this.started = true;
    return this.syncNow();
  }

  /** Stops scheduling runs; a run in flight completes. */
  stop(): void {
    this.started = false;
    this.cancelTimer();
  }

  /** Stops and waits for a run in flight. */
  async close(): Promise<void> {
    this.stop();
    await this.queued;
    await this.inflight;
  }

  /**
   * Runs a sync now. While a run is in flight, a new one is queued after it (so a change made just
   * before this call is seen) and concurrent callers share that queued run.
   */
  syncNow(): Promise<SyncResult> {
    if (this.inflight === undefined) return this.begin();
    this.queued ??= this.inflight.then(() => {
      this.queued = undefined;
      return this.begin();
    });
    return this.queued;
  }

  /**
   * Connects the sync to a TenantManager: every stored entry goes to `manager.applyConfig` (config
   * updates for active tenants, suspension and eviction for suspended or deleted ones), outage alerts
   * go to the manager's `sync:failed` / `sync:recovered` hooks, and the sync stops when the manager
   * closes. Returns a function that detaches again.
   */
  attach(manager: SyncTarget): () => void {
    const unhooks = [
      this.hooks.hook('sync:applied', async ({ entry }) => {
        try {
          await manager.applyConfig(entry);
        } catch (error) {
          this.log.warn(`applying the synced config of ${entry.tenantId} (version ${entry.version}) failed: ${messageOf(error)}`);
        }
      }),
      this.hooks.hook('sync:failed', (event) => manager.hooks.callHook('sync:failed', event)),
      this.hooks.hook('sync:recovered', (event) => manager.hooks.callHook('sync:recovered', event)),
    ];
    const detach = () => {
      for (const unhook of unhooks.splice(0)) unhook();
      unhookClose();
    };
    const unhookClose = manager.hooks.hook('close', async () => {
      detach();
      await this.close();
    });
    return detach;
  }

  /** Monitoring snapshot. */
  status(): ConfigSyncStatus {
    return {
      started: this.started,
      healthy: this.failingSince === undefined && this.lastSuccessAt !== undefined,
      cursor: this.state?.cursor,
      lastAttemptAt: this.lastAttemptAt,
      lastSuccessAt: this.lastSuccessAt,
      failingSince: this.failingSince,
      consecutiveFailures: this.failures,
      nextRunAt: this.nextRunAt,
      lastError: this.lastError && { code: this.lastError.code, message: this.lastError.message },
      totals: { ...this.totals },
    };
  }

  private begin(): Promise<SyncResult> {
    const run = this.run().then((result) => {
      if (this.inflight === run) this.inflight = undefined;
      this.schedule(result);
      return result;
    });
    this.inflight = run;
    return run;
  }

  private schedule(result: SyncResult): void {
    this.cancelTimer();
    if (!this.started) return;
    const delay = result.ok ? this.intervalMs : this.backoff(this.failures);
    this.nextRunAt = this.clock.now() + delay;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      return this.syncNow();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.nextRunAt = undefined;
  }

  private async run(): Promise<SyncResult> {
    this.lastAttemptAt = this.clock.now();
    this.totals.runs++;
    const progress: Progress = { applied: 0, pages: 0, rejected: 0, notModified: false };
    try {
      if (!this.loaded) {
        this.state = await this.cursorStore.load();
        this.loaded = true;
      }
      await this.follow(progress);
    } catch (error) {
      const failure = toMultiTenantError(error, 'INTERNAL', `Config sync failed: ${messageOf(error)}`);
      await this.failed(failure);
      return { ok: false, ...progress, error: failure };
    } finally {
      this.totals.applied += progress.applied;
      this.totals.rejected += progress.rejected;
      this.totals.pages += progress.pages;
    }
    await this.succeeded();
    return { ok: true, ...progress };
  }

  private async follow(progress: Progress): Promise<void> {
    const requested = new Set<string>();
    let restarted = false;
    for (;;) {
      if (progress.pages >= this.maxPages) {
        throw new MultiTenantError('CONFIG_INVALID', `The config feed did not end after ${this.maxPages} pages; is the backend's cursor advancing?`, {
          details: { reason: 'endless-feed' },
        });
      }
      const cursor = this.state?.cursor;
      const etag = this.state?.etag;
      let outcome;
      try {
        outcome = await this.client.configs({
          ...(cursor === undefined ? {} : { cursor }),
          limit: this.pageLimit,
          ...(etag !== undefined && etag.cursor === (cursor ?? null) ? { etag: etag.value } : {}),
        });
      } catch (error) {
        // A backend restored from backup may not know our cursor any more: starting over is safe
        // (versions decide what is applied), once per run.
        if (isMultiTenantError(error) && error.details.reason === 'cursor-rejected' && cursor !== undefined && !restarted) {
          restarted = true;
          this.log.warn('The Cloud Backend rejected the saved sync cursor; re-reading the config feed from the start.');
          this.state = {};
          continue;
        }
        throw error;
      }
      progress.pages++;
      if (outcome.kind === 'not-modified') {
        progress.notModified = true;
        return;
      }
      requested.add(cursor ?? '');
      if (outcome.hasMore && requested.has(outcome.nextCursor)) {
        throw new MultiTenantError('CONFIG_INVALID', 'The config feed returned a cursor it had already returned while reporting more pages; the page was not applied.', {
          details: { reason: 'cursor-not-advancing' },
        });
      }
      for (const raw of outcome.users) await this.applyOne(raw, progress);
      const next: SyncCursorState = {
        cursor: outcome.nextCursor,
        ...(outcome.etag === undefined ? {} : { etag: { cursor: cursor ?? null, value: outcome.etag } }),
        savedAt: this.clock.now(),
      };
      this.state = next;
      try {
        await this.cursorStore.save(next);
      } catch (error) {
        // Losing the cursor only costs a longer re-read after a restart; keep syncing.
        this.log.warn(`saving the sync cursor failed: ${messageOf(error)}`);
      }
      if (!outcome.hasMore) return;
    }
  }

  private async applyOne(raw: unknown, progress: Progress): Promise<void> {
    const parsed = configUserSchema.safeParse(raw);
    const rawId = typeof raw === 'object' && raw !== null ? (raw as { userId?: unknown }).userId : undefined;
    const tenantId = tenantIdProblem(rawId) === undefined ? (rawId as string) : undefined;
    let entry: TenantConfigEntry | undefined;
    let problem: string | undefined;
    if (parsed.success) {
      const { userId, status, config, version, updatedAt } = parsed.data;
      entry = { tenantId: userId, status, config: config as TenantConfigEntry['config'], version, updatedAt };
      problem = configEntryProblem(entry);
    } else {
      problem = describeIssues(parsed.error.issues);
    }
    if (entry !== undefined && problem === undefined) {
      try {
        if (await this.lastKnownGood.put(entry)) {
          progress.applied++;
          await this.emit('sync:applied', { entry });
        }
        return;
      } catch (error) {
        // The store's own validation may be stricter; anything else is a storage failure that fails the run.
        if (!isMultiTenantError(error) || (error.code !== 'CONFIG_INVALID' && error.code !== 'TENANT_ID_INVALID')) throw error;
        problem = error.message;
      }
    }
    progress.rejected++;
    const error = new MultiTenantError('CONFIG_INVALID', `Rejected a synced config entry${tenantId ? ` for ${tenantId}` : ''}: ${problem}.`, {
      details: { reason: 'invalid-entry', ...(tenantId ? { tenantId } : {}) },
    });
    this.log.warn(`${error.message} The stored config stays in force.`);
    await this.emit('sync:rejected', { tenantId, error });
  }

  private async failed(error: MultiTenantError): Promise<void> {
    this.failures++;
    this.lastError = error;
    if (this.failingSince !== undefined) {
      this.log.debug(`config sync still failing (attempt ${this.failures}): ${error.message}`);
      return;
    }
    this.failingSince = this.clock.now();
    this.log.warn(`Cloud Backend config sync failed (${error.code}): ${error.message} Serving last-known-good configs; retrying with backoff.`);
    await this.emit('sync:failed', { error, attempt: this.failures });
  }

  private async succeeded(): Promise<void> {
    const now = this.clock.now();
    this.lastSuccessAt = now;
    this.lastError = undefined;
    const since = this.failingSince;
    this.failingSince = undefined;
    this.failures = 0;
    if (since === undefined) return;
    const downtimeMs = Math.max(0, now - since);
    this.log.info(`Cloud Backend config sync recovered after ${Math.round(downtimeMs / 1000)} s.`);
    await this.emit('sync:recovered', { downtimeMs });
  }

  /** Calls a hook; a failing handler is logged and never stops the sync. */
  private async emit<K extends keyof ConfigSyncHooks>(name: K, ...args: Parameters<ConfigSyncHooks[K]>): Promise<void> {
    try {
      const call = this.hooks.callHook as (this: Hookable<ConfigSyncHooks>, name: K, ...rest: unknown[]) => unknown;
      await call.call(this.hooks, name, ...args);
    } catch (error) {
      this.log.warn(`sync hook ${name} failed: ${messageOf(error)}`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function positiveInteger(value: number, key: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive integer, got ${String(value)}.`);
  return value;
}
