import type { ConsolaInstance } from 'consola';
import { createHooks, type Hookable } from 'hookable';
import type { ConfigSource, TenantConfigEntry } from '../contracts/config-source.js';
import { DEFAULT_PROVIDER_ID, type ProviderCredential, type TenantSecretStore } from '../contracts/tenant-secret-store.js';
import { configEntryProblem, tenantConfigProblem } from '../config/tenant-config.js';
import { MultiTenantError, isMultiTenantError, toMultiTenantError } from '../errors/multi-tenant-error.js';
import type { HookResult, TenantHooks } from '../lifecycle/tenant-hooks.js';
import { createLogger } from '../logging/logger.js';
import { tenantIdProblem } from '../tenants/tenant-id.js';
import { describeIssues } from './answer-errors.js';
import { type BackoffOptions, createBackoff } from '../helpers/backoff.js';
import type { CloudClient, ConfigsOutcome } from './cloud-client.js';
import { type CloudClock, systemClock } from './clock.js';
import { type SyncCursorState, type SyncCursorStore, createMemoryCursorStore } from './cursor-store.js';
import { MAX_CONFIGS_PAGE_LIMIT, type TokenEvent, configUserSchema, tokenEventSchema } from './wire-contract.js';

/** Options of {@link ConfigSyncService}. */
export interface ConfigSyncOptions {
  client: CloudClient;
  /** Where synced entries are kept (any source with `put`: fs, Redis, memory); reads are served from it. */
  lastKnownGood: ConfigSource;
  /** Where the feed position is kept across restarts. Default: in memory (a restart re-reads the feed). */
  cursorStore?: SyncCursorStore;
  /** Where per-user credentials a backend hands out (the fork's `llm_api_key`) are kept. Without one they are dropped. */
  secrets?: TenantSecretStore;
  /** Pause between successful runs (the seed's `syncIntervalMs`). Default 60 s. */
  syncIntervalMs?: number;
  /** Users asked for per page. Default 500 (at most 1,000, or what the dialect allows). */
  pageLimit?: number;
  /** The page budget: a run that has not reached the end after this many pages fails (an endless feed). Default 10,000. */
  maxPagesPerRun?: number;
  /** How often a long run logs its progress. Default 10 s. */
  progressIntervalMs?: number;
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
  /** Token events (revoked, rotated, expired) passed on. */
  tokenEvents: number;
  /** The backend answered 304: nothing changed since the last poll. */
  notModified: boolean;
  /** Why the run failed; the cursor did not move past the failing page. */
  error?: MultiTenantError;
}

/** A condition worth an operator's attention that does not stop the sync, with a stable code. */
export interface SyncAlert {
  /** `SYNC_PAGE_TOO_LARGE`: a page over the size cap was re-read in smaller pages. `SYNC_SNAPSHOT_EMPTY`: an empty snapshot was not taken to mean "every user left". */
  code: 'SYNC_PAGE_TOO_LARGE' | 'SYNC_SNAPSHOT_EMPTY';
  message: string;
  at: number;
}

/** Hooks of the sync service. `attach` forwards them to a TenantManager. */
export interface ConfigSyncHooks {
  /** An entry newer than the stored copy was stored in the last-known-good source. */
  'sync:applied': (event: { entry: TenantConfigEntry }) => HookResult;
  /** An entry failed validation and was skipped; the tenant keeps its previous config. */
  'sync:rejected': (event: { tenantId: string | undefined; error: MultiTenantError }) => HookResult;
  /** A token event (v1.1) arrived through the feed or a push. */
  'sync:token-event': (event: { event: TokenEvent }) => HookResult;
  /** The first failed run of an outage (once per outage). */
  'sync:failed': (event: { error: MultiTenantError; attempt: number }) => HookResult;
  /** The first successful run after an outage. */
  'sync:recovered': (event: { downtimeMs: number }) => HookResult;
  /** A coded alert was raised (once until it is resolved). */
  'sync:alert': (event: SyncAlert) => HookResult;
  /** A complete run no longer met the alert's condition. */
  'sync:alert-resolved': (event: { code: SyncAlert['code'] }) => HookResult;
}

/** A point-in-time view of the sync, for monitoring and `doctor`. */
export interface ConfigSyncStatus {
  started: boolean;
  healthy: boolean;
  /** `changes` or `snapshot` (see the dialect). */
  feed: 'changes' | 'snapshot';
  cursor: string | undefined;
  /** A run is in flight. */
  running: boolean;
  lastAttemptAt: number | undefined;
  lastSuccessAt: number | undefined;
  /** Start of the current outage. */
  failingSince: number | undefined;
  consecutiveFailures: number;
  nextRunAt: number | undefined;
  lastError: { code: string; message: string } | undefined;
  /** Alerts raised and not resolved yet. */
  alerts: SyncAlert[];
  totals: { runs: number; applied: number; rejected: number; pages: number; tokenEvents: number };
}

/** What `attach` needs of a TenantManager. */
export type SyncTarget = { applyConfig(entry: TenantConfigEntry): Promise<void>; hooks: Hookable<TenantHooks> };

/** Entries that arrived outside the feed (a push), validated and applied exactly like feed entries. */
export interface PushedEntries {
  users?: readonly unknown[];
  tokens?: readonly unknown[];
}

interface Progress {
  applied: number;
  pages: number;
  rejected: number;
  tokenEvents: number;
  notModified: boolean;
  entries: number;
  /** Users a snapshot walk saw as active. */
  seen: Set<string> | undefined;
  raised: Set<SyncAlert['code']>;
}

const newProgress = (snapshot: boolean): Progress => ({
  applied: 0,
  pages: 0,
  rejected: 0,
  tokenEvents: 0,
  notModified: false,
  entries: 0,
  seen: snapshot ? new Set() : undefined,
  raised: new Set(),
});

/**
 * Keeps a last-known-good config source current from the Cloud Backend's config feed.
 *
 * A run follows pages to the end with opaque server cursors; validates every page (a structurally bad
 * page fails the run and the cursor stays) and every entry (a bad entry is skipped with
 * `sync:rejected`; its tenant keeps its old config); `put`s entries into the last-known-good source,
 * which keeps only newer versions; announces each stored entry (`sync:applied` → the manager's
 * `applyConfig`) and each token event (`sync:token-event` → the token store); and persists the cursor
 * after every page. With nothing new it sends the last ETag and accepts 304. A page over the size cap is
 * re-read in halves (alert `SYNC_PAGE_TOO_LARGE`), so the rest of the feed still advances. Long runs log
 * their progress; a run that exceeds its page budget fails (an endless feed).
 *
 * A `snapshot` feed (the fork's backend: active users only, no versions) is walked whole on every run;
 * a user it no longer lists is stored as suspended, one that reappears as active.
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
  private readonly secrets: TenantSecretStore | undefined;
  private readonly snapshot: boolean;
  private readonly intervalMs: number;
  private readonly pageLimit: number;
  private readonly maxPages: number;
  private readonly progressIntervalMs: number;
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
  /** Users the last complete snapshot listed as active. */
  private activeInSnapshot: Set<string> | undefined;
  private readonly alerts = new Map<SyncAlert['code'], SyncAlert>();
  private readonly totals = { runs: 0, applied: 0, rejected: 0, pages: 0, tokenEvents: 0 };

  constructor(options: ConfigSyncOptions) {
    const lkg = options.lastKnownGood;
    if (typeof lkg?.put !== 'function') {
      throw new MultiTenantError('CONFIG_INVALID', `lastKnownGood: config source "${lkg?.name ?? '?'}" cannot store entries (no put).`);
    }
    this.client = options.client;
    this.lastKnownGood = lkg as ConfigSource & Required<Pick<ConfigSource, 'put'>>;
    this.cursorStore = options.cursorStore ?? createMemoryCursorStore();
    this.secrets = options.secrets;
    this.snapshot = options.client.dialect.feed === 'snapshot';
    this.intervalMs = positiveInteger(options.syncIntervalMs ?? 60_000, 'syncIntervalMs');
    this.pageLimit = Math.min(
      positiveInteger(options.pageLimit ?? 500, 'pageLimit'),
      MAX_CONFIGS_PAGE_LIMIT,
      options.client.dialect.maxPageLimit,
    );
    this.maxPages = positiveInteger(options.maxPagesPerRun ?? 10_000, 'maxPagesPerRun');
    this.progressIntervalMs = positiveInteger(options.progressIntervalMs ?? 10_000, 'progressIntervalMs');
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
   * Applies entries that arrived outside the feed (a signed push), each validated exactly like a feed
   * entry: users go to the last-known-good copy and the manager when newer, token events to the token
   * store. The feed stays the source of truth; a push only gets there first.
   */
  async applyPushed(entries: PushedEntries): Promise<{ applied: number; rejected: number; tokenEvents: number }> {
    const progress = newProgress(false);
    for (const raw of entries.tokens ?? []) await this.applyTokenEvent(raw, progress);
    for (const raw of entries.users ?? []) await this.applyOne(raw, progress);
    this.totals.applied += progress.applied;
    this.totals.rejected += progress.rejected;
    this.totals.tokenEvents += progress.tokenEvents;
    return { applied: progress.applied, rejected: progress.rejected, tokenEvents: progress.tokenEvents };
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
      this.hooks.hook('sync:alert', (event) => manager.hooks.callHook('sync:alert', event)),
      this.hooks.hook('sync:alert-resolved', (event) => manager.hooks.callHook('sync:alert-resolved', event)),
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
      feed: this.snapshot ? 'snapshot' : 'changes',
      cursor: this.state?.cursor,
      running: this.inflight !== undefined,
      lastAttemptAt: this.lastAttemptAt,
      lastSuccessAt: this.lastSuccessAt,
      failingSince: this.failingSince,
      consecutiveFailures: this.failures,
      nextRunAt: this.nextRunAt,
      lastError: this.lastError && { code: this.lastError.code, message: this.lastError.message },
      alerts: [...this.alerts.values()].map((alert) => ({ ...alert })),
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
    const startedAt = this.clock.now();
    this.lastAttemptAt = startedAt;
    this.totals.runs++;
    const progress = newProgress(this.snapshot);
    const summary = () => {
      const { applied, pages, rejected, tokenEvents, notModified } = progress;
      return { applied, pages, rejected, tokenEvents, notModified };
    };
    try {
      if (!this.loaded) {
        this.state = this.snapshot ? undefined : await this.cursorStore.load();
        this.loaded = true;
      }
      await this.follow(progress, startedAt);
      if (progress.seen !== undefined) await this.settleSnapshot(progress);
    } catch (error) {
      const failure = toMultiTenantError(error, 'INTERNAL', `Config sync failed: ${messageOf(error)}`);
      await this.failed(failure);
      return { ok: false, ...summary(), error: failure };
    } finally {
      this.totals.applied += progress.applied;
      this.totals.rejected += progress.rejected;
      this.totals.pages += progress.pages;
      this.totals.tokenEvents += progress.tokenEvents;
    }
    const tookMs = this.clock.now() - startedAt;
    if (tookMs >= this.progressIntervalMs) {
      this.log.info(
        `config sync caught up: ${progress.pages} pages, ${progress.entries} entries (${progress.applied} applied, ${progress.rejected} rejected) in ${Math.round(tookMs / 1000)} s`,
      );
    }
    await this.resolveAlerts(progress.raised);
    await this.succeeded();
    return { ok: true, ...summary() };
  }

  private async follow(progress: Progress, startedAt: number): Promise<void> {
    const requested = new Set<string>();
    let restarted = false;
    let limit = this.pageLimit;
    let lastReport = startedAt;
    // A snapshot is walked from its first page every run: its cursor only means "the last row id seen".
    let cursor = this.snapshot ? undefined : this.state?.cursor;
    for (;;) {
      if (progress.pages >= this.maxPages) {
        throw new MultiTenantError(
          'CONFIG_INVALID',
          `The config feed did not end after ${this.maxPages} pages (the page budget, multiTenant.cloud.maxPagesPerRun); is the backend's cursor advancing?`,
          { details: { reason: 'endless-feed' } },
        );
      }
      const etag = this.snapshot ? undefined : this.state?.etag;
      const asked = cursor;
      let outcome: ConfigsOutcome;
      try {
        outcome = await this.client.configs({
          ...(cursor === undefined ? {} : { cursor }),
          limit,
          ...(etag !== undefined && etag.cursor === (cursor ?? null) ? { etag: etag.value } : {}),
        });
      } catch (error) {
        // A backend restored from backup may not know our cursor any more: starting over is safe
        // (versions decide what is applied), once per run.
        if (isMultiTenantError(error) && error.details.reason === 'cursor-rejected' && cursor !== undefined && !restarted) {
          restarted = true;
          this.log.warn('The Cloud Backend rejected the saved sync cursor; re-reading the config feed from the start.');
          this.state = {};
          cursor = undefined;
          continue;
        }
        if (isMultiTenantError(error) && error.details.reason === 'too-large') {
          if (limit > 1) {
            limit = Math.max(1, Math.floor(limit / 2));
            await this.raise(
              progress,
              'SYNC_PAGE_TOO_LARGE',
              `A config feed page exceeded the response size cap; re-reading it ${limit} users at a time.`,
            );
            continue;
          }
          throw new MultiTenantError(
            'CONFIG_INVALID',
            'A single config feed entry exceeds the response size cap (multiTenant.cloud.maxResponseBytes); the feed cannot move past it until the cap is raised or the entry shrinks.',
            { cause: error, details: { reason: 'page-too-large' } },
          );
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
        throw new MultiTenantError(
          'CONFIG_INVALID',
          'The config feed returned a cursor it had already returned while reporting more pages; the page was not applied.',
          { details: { reason: 'cursor-not-advancing' } },
        );
      }
      for (const raw of outcome.tokens) await this.applyTokenEvent(raw, progress);
      for (const raw of outcome.users) await this.applyOne(raw, progress);
      for (const { userId, credential } of outcome.credentials) await this.storeCredential(userId, credential);
      progress.entries += outcome.users.length + outcome.tokens.length;
      cursor = outcome.nextCursor;
      if (!this.snapshot) {
        const next: SyncCursorState = {
          cursor: outcome.nextCursor,
          ...(outcome.etag === undefined ? {} : { etag: { cursor: asked ?? null, value: outcome.etag } }),
          savedAt: this.clock.now(),
        };
        this.state = next;
        try {
          await this.cursorStore.save(next);
        } catch (error) {
          // Losing the cursor only costs a longer re-read after a restart; keep syncing.
          this.log.warn(`saving the sync cursor failed: ${messageOf(error)}`);
        }
      } else this.state = { cursor: outcome.nextCursor };
      if (!outcome.hasMore) return;
      const now = this.clock.now();
      if (now - lastReport >= this.progressIntervalMs) {
        lastReport = now;
        this.log.info(`config sync in progress: ${progress.pages} pages, ${progress.entries} entries so far (${progress.applied} applied)`);
      }
    }
  }

  /** Users a complete snapshot no longer lists are not active any more: store them as suspended. */
  private async settleSnapshot(progress: Progress): Promise<void> {
    const seen = progress.seen!;
    const known = this.activeInSnapshot ?? (await this.storedActiveTenants());
    const missing = [...known].filter((tenantId) => !seen.has(tenantId));
    if (seen.size === 0 && missing.length > 1) {
      // Every user leaving at once is more likely a broken backend: keep everyone as they were (verify still decides at connect).
      await this.raise(
        progress,
        'SYNC_SNAPSHOT_EMPTY',
        `The backend's user list came back empty while ${missing.length} users were active; nobody was suspended.`,
      );
      return;
    }
    for (const tenantId of missing) {
      const entry = await this.lastKnownGood.get(tenantId);
      if (entry === undefined || entry.status !== 'active') continue;
      const gone: TenantConfigEntry = { ...entry, status: 'suspended', version: entry.version + 1, updatedAt: this.clock.now() };
      if (await this.lastKnownGood.put(gone)) {
        progress.applied++;
        await this.emit('sync:applied', { entry: gone });
      }
      await this.storeCredential(tenantId, undefined);
    }
    this.activeInSnapshot = seen;
  }

  private async storedActiveTenants(): Promise<Set<string>> {
    const active = new Set<string>();
    if (this.lastKnownGood.tenants === undefined) return active;
    for await (const tenantId of this.lastKnownGood.tenants()) {
      if ((await this.lastKnownGood.get(tenantId))?.status === 'active') active.add(tenantId);
    }
    return active;
  }

  private async storeCredential(tenantId: string, credential: ProviderCredential | undefined): Promise<void> {
    if (this.secrets === undefined || tenantIdProblem(tenantId) !== undefined) return;
    try {
      await this.secrets.set(tenantId, credential === undefined ? {} : { [DEFAULT_PROVIDER_ID]: credential });
    } catch (error) {
      // Never echo the value: the store's message names the field only.
      this.log.warn(`storing the model credential of ${tenantId} failed: ${messageOf(error)}`);
    }
  }

  private async applyTokenEvent(raw: unknown, progress: Progress): Promise<void> {
    const parsed = tokenEventSchema.safeParse(raw);
    if (parsed.success) {
      progress.tokenEvents++;
      await this.emit('sync:token-event', { event: parsed.data });
      return;
    }
    progress.rejected++;
    this.log.warn(`Rejected a token event of the config feed: ${describeIssues(parsed.error.issues)}.`);
  }

  private async applyOne(raw: unknown, progress: Progress): Promise<void> {
    const rawId = typeof raw === 'object' && raw !== null ? (raw as { userId?: unknown }).userId : undefined;
    const tenantId = tenantIdProblem(rawId) === undefined ? (rawId as string) : undefined;
    // Listed as active counts as present, even when the entry itself is refused: a bad config is no suspension.
    if (progress.seen !== undefined && tenantId !== undefined && (raw as { status?: unknown }).status === 'active')
      progress.seen.add(tenantId);
    // Checked on the raw value: schema parsing would silently drop a `__proto__` key instead of refusing it.
    const rawConfig = typeof raw === 'object' && raw !== null ? (raw as { config?: unknown }).config : undefined;
    let problem = typeof rawConfig === 'object' && rawConfig !== null ? tenantConfigProblem(rawConfig) : undefined;
    let entry: TenantConfigEntry | undefined;
    const parsed = configUserSchema.safeParse(raw);
    if (problem === undefined) {
      if (parsed.success) {
        const { userId, status, config, version, updatedAt } = parsed.data;
        entry = { tenantId: userId, status, config: config as TenantConfigEntry['config'], version, updatedAt };
        problem = configEntryProblem(entry);
      } else {
        problem = describeIssues(parsed.error.issues);
      }
    }
    if (entry !== undefined && problem === undefined) {
      try {
        if (progress.seen !== undefined) entry = await this.presentInSnapshot(entry);
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
    const error = new MultiTenantError(
      'CONFIG_INVALID',
      `Rejected a synced config entry${tenantId ? ` for ${tenantId}` : ''}: ${problem}.`,
      { details: { reason: 'invalid-entry', ...(tenantId ? { tenantId } : {}) } },
    );
    this.log.warn(`${error.message} The stored config stays in force.`);
    await this.emit('sync:rejected', { tenantId, error });
  }

  /** In a snapshot, being listed means being active now: a stored non-active entry is overtaken whatever its version. */
  private async presentInSnapshot(entry: TenantConfigEntry): Promise<TenantConfigEntry> {
    if (entry.status !== 'active') return entry;
    const stored = await this.lastKnownGood.get(entry.tenantId);
    if (stored === undefined || stored.status === 'active' || stored.version < entry.version) return entry;
    return { ...entry, version: stored.version + 1 };
  }

  private async raise(progress: Progress, code: SyncAlert['code'], message: string): Promise<void> {
    if (progress.raised.has(code)) return;
    progress.raised.add(code);
    if (this.alerts.has(code)) return;
    const alert: SyncAlert = { code, message, at: this.clock.now() };
    this.alerts.set(code, alert);
    this.log.warn(`[${code}] ${message}`);
    await this.emit('sync:alert', alert);
  }

  private async resolveAlerts(raised: Set<SyncAlert['code']>): Promise<void> {
    for (const code of [...this.alerts.keys()]) {
      if (raised.has(code)) continue;
      this.alerts.delete(code);
      this.log.info(`[${code}] resolved`);
      await this.emit('sync:alert-resolved', { code });
    }
  }

  private async failed(error: MultiTenantError): Promise<void> {
    this.failures++;
    this.lastError = error;
    if (this.failingSince !== undefined) {
      this.log.debug(`config sync still failing (attempt ${this.failures}): ${error.message}`);
      return;
    }
    this.failingSince = this.clock.now();
    this.log.warn(
      `Cloud Backend config sync failed (${error.code}): ${error.message} Serving last-known-good configs; retrying with backoff.`,
    );
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
  if (!Number.isSafeInteger(value) || value < 1)
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive integer, got ${String(value)}.`);
  return value;
}
