import type { ConsolaInstance } from 'consola';
import { createHooks, type Hookable } from 'hookable';
import { LRUMapWithDelete } from 'mnemonist';
import { Authenticator, type AuthCacheOptions, type AuthResult } from '../auth/authenticator.js';
import { TokenService } from '../auth/token-service.js';
import type { ConfigSource, TenantConfig, TenantConfigEntry } from '../contracts/config-source.js';
import type { Coordinator, LeaseLossCause, TenantClaim } from '../contracts/coordinator.js';
import type { TokenChange, TokenStore } from '../contracts/token-store.js';
import type { WorkspaceHandle, WorkspaceStore } from '../contracts/workspace-store.js';
import { assertTenantConfig, mergeTenantConfig } from '../config/tenant-config.js';
import { MultiTenantError, isMultiTenantError, toMultiTenantError } from '../errors/multi-tenant-error.js';
import { createLogger } from '../logging/logger.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { createTokenHasher } from '../tokens/token-hasher.js';
import type { TokenFormatName } from '../tokens/token-formats.js';
import { AdmissionQueue } from './admission-queue.js';
import type { Lease } from './lease.js';
import { ResidentSet } from './resident-set.js';
import type { EvictionReason, TenantHooks } from './tenant-hooks.js';

/** What to do when every slot holds a pinned tenant. */
export type WhenFull = 'reject' | 'wait';

/** Options of {@link TenantManager}. Only the three stores are required. */
export interface TenantManagerOptions {
  tokens: TokenStore;
  configs: ConfigSource;
  workspaces: WorkspaceStore;
  /** For fleets: makes a tenant active on at most one node. */
  coordinator?: Coordinator;
  /** HMAC peppers for token hashes, current first (see `createTokenHasher`). */
  peppers?: readonly string[];
  /**
   * Token formats accepted: `gt` (default; checksum-gated) and/or `gw` (the original fork's backend tokens,
   * verified by the backend). Any other token is `TOKEN_MALFORMED` before a lookup.
   */
  tokenFormats?: readonly TokenFormatName[];
  /** Operator defaults every tenant config is merged over. */
  defaults?: TenantConfig;
  /** Extra validation of a merged tenant config; throw (ideally `CONFIG_INVALID`) to reject it. */
  validateConfig?: (config: TenantConfig, tenantId: string) => TenantConfig;
  /** Most tenants in memory at once (the seed's `maxCachedUsers`). Default 100. */
  capacity?: number;
  /** Unpinned tenants are evicted after this long unused (`userIdleTimeoutMs`). Default 30 min; 0 disables. */
  idleTimeoutMs?: number;
  /** When all slots are pinned: fail at once with `CAPACITY` (default) or wait in a bounded queue. */
  whenFull?: WhenFull;
  /** Bounds of the wait queue (`whenFull: 'wait'`). Defaults: 1,000 waiters, 10 s. */
  queue?: { maxLength?: number; timeoutMs?: number };
  /** `retryAfterMs` suggested with `CAPACITY` errors. Default 1,000. */
  retryAfterMs?: number;
  /** When another node holds a tenant: fail with `LEASE_HELD` (default) or keep trying until this many ms pass. */
  leaseWaitMs?: number;
  authCache?: AuthCacheOptions;
  /** How long a rotated-out token keeps working. Default 1 h. */
  rotationGraceMs?: number;
  /** How long `close()` waits for pinned tenants to be released. Default 10 s. */
  drainTimeoutMs?: number;
  /** Single-user mode (`multiTenant.enabled: false`): every token and id resolves to this one tenant. */
  singleTenant?: string;
  /** Hooks to register at construction. */
  hooks?: Partial<TenantHooks>;
  logger?: ConsolaInstance;
  /** Clock for expiry checks (tests). */
  now?: () => number;
}

/** A point-in-time view of the manager, for monitoring. */
export interface TenantManagerStats {
  capacity: number;
  resident: number;
  pinned: number;
  activating: number;
  queued: number;
  activations: number;
  activationFailures: number;
  evictions: Record<EvictionReason, number>;
  auth: ReturnType<Authenticator['stats']>;
}

/** One resident tenant. */
interface TenantSlot {
  readonly tenantId: string;
  pins: number;
  resident: boolean;
  state: 'activating' | 'active' | 'deactivating';
  workspace: WorkspaceHandle | undefined;
  config: TenantConfig;
  configVersion: number;
  claim: TenantClaim | undefined;
  idleSince: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Settles when activation finishes (rejects when it failed). */
  ready: Promise<void> | undefined;
  /** The coordinator reported the claim lost. */
  claimLost: boolean;
  /** Why, as the coordinator said. */
  lossCause: LeaseLossCause | undefined;
}

const EVICTION_REASONS: readonly EvictionReason[] = ['idle', 'lru', 'manual', 'revoked', 'suspended', 'lease-lost', 'shutdown'];

class ActiveLease implements Lease {
  private done = false;

  constructor(
    private readonly slot: TenantSlot,
    private readonly onRelease: (slot: TenantSlot) => void,
  ) {}

  get tenantId(): string {
    return this.slot.tenantId;
  }

  get workspace(): WorkspaceHandle {
    return this.slot.workspace!;
  }

  get config(): TenantConfig {
    return this.slot.config;
  }

  get configVersion(): number {
    return this.slot.configVersion;
  }

  get released(): boolean {
    return this.done;
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.onRelease(this.slot);
  }
}

/**
 * The heart of openclaw-mt: authenticates tokens, activates tenants on demand (single-flight), keeps
 * at most `capacity` of them in an LRU that never evicts a tenant in use, evicts idle ones, and follows
 * token and config changes from its stores. Hosts talk to it through `authenticate`, `acquire` and
 * leases; runtimes through its hooks.
 */
export class TenantManager {
  /** Lifecycle hooks (see {@link TenantHooks}). */
  readonly hooks: Hookable<TenantHooks>;
  /** Token administration: create, revoke, rotate, list. */
  readonly tokens: TokenService;

  private readonly options: TenantManagerOptions;
  private readonly residents: ResidentSet<TenantSlot>;
  private readonly authenticator: Authenticator;
  private readonly queue: AdmissionQueue;
  private readonly deactivations = new Map<string, Promise<void>>();
  private readonly defaults: TenantConfig;
  private readonly idleTimeoutMs: number;
  private readonly now: () => number;
  private readonly log: ConsolaInstance;
  private readonly unsubscribers: Array<() => void> = [];
  private readonly statusChanges = new LRUMapWithDelete<string, { version: number; done: Promise<void> }>(10_000);
  private readonly counters = { activations: 0, activationFailures: 0, activating: 0 };
  private readonly evictions = Object.fromEntries(EVICTION_REASONS.map((reason) => [reason, 0])) as Record<EvictionReason, number>;
  private closing: Promise<void> | undefined;

  constructor(options: TenantManagerOptions) {
    this.options = options;
    const capacity = positiveInteger(options.capacity ?? 100, 'capacity');
    this.idleTimeoutMs = nonNegativeInteger(options.idleTimeoutMs ?? 30 * 60_000, 'idleTimeoutMs');
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? createLogger({ tag: 'openclaw-mt' });
    this.defaults = assertTenantConfig(options.defaults ?? {});
    if (options.singleTenant !== undefined) assertTenantId(options.singleTenant);
    this.residents = new ResidentSet(capacity);
    this.queue = new AdmissionQueue(positiveInteger(options.queue?.maxLength ?? 1_000, 'queue.maxLength'), options.retryAfterMs ?? 1_000);
    this.hooks = createHooks<TenantHooks>();
    if (options.hooks) this.hooks.addHooks(options.hooks);

    const hasher = createTokenHasher({ peppers: options.peppers ?? [] });
    this.authenticator = new Authenticator({
      tokens: options.tokens,
      configs: options.configs,
      hasher,
      now: this.now,
      ...(options.authCache ? { cache: options.authCache } : {}),
      ...(options.singleTenant ? { singleTenant: options.singleTenant } : {}),
      ...(options.tokenFormats ? { tokenFormats: options.tokenFormats } : {}),
      onFailure: (code, tokenHint) => void this.notify('auth:failed', { code, tokenHint }),
    });
    this.tokens = new TokenService(
      options.tokens,
      hasher,
      {
        onCreated: (hash) => this.authenticator.invalidateHash(hash),
        onRotated: (hash) => this.authenticator.invalidateHash(hash),
        onRevoked: async (record) => {
          this.authenticator.invalidateHash(record.tokenHash);
          // A watching store reports the revocation itself (to every node); don't announce it twice.
          if (!options.tokens.capabilities.watch) {
            await this.notify('token:revoked', { tokenHash: record.tokenHash, tenantId: record.tenantId });
          }
        },
      },
      this.now,
      nonNegativeInteger(options.rotationGraceMs ?? 60 * 60_000, 'rotationGraceMs'),
    );

    const unwatchTokens = options.tokens.watch?.((change) => this.onTokenChange(change));
    if (unwatchTokens) this.unsubscribers.push(unwatchTokens);
    const unwatchConfigs = options.configs.watch?.(
      (entry) => void this.applyConfig(entry).catch((error) => this.warn('config change', error)),
    );
    if (unwatchConfigs) this.unsubscribers.push(unwatchConfigs);
  }

  /** The stores this manager was built with, for hosts and tools that need direct access. */
  get stores(): { tokens: TokenStore; configs: ConfigSource; workspaces: WorkspaceStore; coordinator?: Coordinator } {
    const { tokens, configs, workspaces, coordinator } = this.options;
    return coordinator ? { tokens, configs, workspaces, coordinator } : { tokens, configs, workspaces };
  }

  /** Resolves a gateway token to its tenant, or throws a coded error. Never logs the token. */
  authenticate(token: unknown): Promise<AuthResult> {
    if (this.closing) return Promise.reject(closedError());
    return this.authenticator.authenticate(token);
  }

  /**
   * The tenant of a token when a fresh cached answer exists, without a promise; `undefined` means
   * "call `authenticate`". For hosts whose hot path handles many requests per connection.
   */
  authenticateCached(token: unknown): AuthResult | undefined {
    return this.closing ? undefined : this.authenticator.cached(token);
  }

  /**
   * A lease on a tenant that is already active, without a promise; `undefined` means "call `acquire`"
   * (the tenant is not resident, is still activating, or the manager is closing).
   */
  tryAcquire(tenantId: string): Lease | undefined {
    const slot = this.closing ? undefined : this.residents.get(this.options.singleTenant ?? tenantId);
    return slot !== undefined && slot.state === 'active' ? this.lease(slot) : undefined;
  }

  /**
   * Returns a lease on a tenant, activating it first if needed. Concurrent acquires of one tenant
   * share one activation. At capacity the least recently used unpinned tenant is evicted; when all
   * are pinned, throws `CAPACITY` with `retryAfterMs` (or waits, with `whenFull: 'wait'`).
   */
  acquire(tenantId: string): Promise<Lease> {
    const id = this.options.singleTenant ?? tenantId;
    const slot = this.closing ? undefined : this.residents.get(id);
    if (slot !== undefined && slot.state === 'active') return Promise.resolve(this.lease(slot));
    return this.acquireSlow(id, slot);
  }

  /** Evicts a tenant now. A pinned tenant is only evicted with `force` (its leases then go stale). */
  async evict(tenantId: string, options: { reason?: EvictionReason; force?: boolean } = {}): Promise<boolean> {
    const slot = this.residents.peek(assertTenantId(tenantId));
    if (slot === undefined || slot.state !== 'active') {
      await this.deactivations.get(tenantId);
      return false;
    }
    if (slot.pins > 0 && !options.force) {
      throw new MultiTenantError('TENANT_BUSY', `${tenantId} is in use (${slot.pins} open leases); pass force to evict anyway.`);
    }
    await this.deactivate(slot, options.reason ?? 'manual');
    return true;
  }

  /** Evicts every unpinned tenant; returns how many were evicted. */
  async evictIdle(reason: EvictionReason = 'manual'): Promise<number> {
    const idle = this.residents.items().filter((slot) => slot.state === 'active' && slot.pins === 0);
    await Promise.all(idle.map((slot) => this.deactivate(slot, reason)));
    return idle.length;
  }

  /** Whether a tenant is active in this manager. */
  isActive(tenantId: string): boolean {
    return this.residents.peek(tenantId)?.state === 'active';
  }

  /** Active tenants, most recently used first, with their pin counts. */
  activeTenants(): Array<{ tenantId: string; pins: number; idleSince: number | undefined; configVersion: number }> {
    return this.residents
      .items()
      .filter((slot) => slot.state === 'active')
      .map((slot) => ({
        tenantId: slot.tenantId,
        pins: slot.pins,
        idleSince: slot.pins === 0 ? slot.idleSince : undefined,
        configVersion: slot.configVersion,
      }));
  }

  /**
   * Applies a config entry that changed upstream (watch, sync, admin): caches are refreshed; an active
   * tenant gets its new merged config (`tenant:config-updated`), or, when suspended or deleted, is
   * announced (`tenant:suspended`) and evicted. Stale versions are ignored. An invalid config is
   * rejected with `CONFIG_INVALID` and the tenant keeps its current one.
   */
  async applyConfig(entry: TenantConfigEntry): Promise<void> {
    if (entry.status !== 'active') {
      // The same change may arrive twice (a local write and the store's watch): apply it once.
      const seen = this.statusChanges.get(entry.tenantId);
      if (seen !== undefined && seen.version >= entry.version) return seen.done;
      const done = this.applySuspension(entry.tenantId, entry.status);
      this.statusChanges.set(entry.tenantId, { version: entry.version, done });
      return done;
    }
    this.authenticator.forgetSuspension(entry.tenantId);
    const slot = this.residents.peek(entry.tenantId);
    if (slot === undefined || slot.state !== 'active' || entry.version <= slot.configVersion) return;
    const config = this.mergeConfig(entry.tenantId, entry.config);
    const previousVersion = slot.configVersion;
    slot.config = config;
    slot.configVersion = entry.version;
    await this.notify('tenant:config-updated', { tenantId: entry.tenantId, config, version: entry.version, previousVersion });
  }

  private async applySuspension(tenantId: string, status: 'suspended' | 'deleted'): Promise<void> {
    this.authenticator.invalidateTenant(tenantId);
    await this.notify('tenant:suspended', { tenantId, status });
    const slot = this.residents.peek(tenantId);
    if (slot !== undefined && slot.state === 'active') await this.deactivate(slot, 'suspended');
  }

  /** Suspends a tenant in the config source and applies it here (closing its connections through hooks). */
  async suspend(tenantId: string): Promise<TenantConfigEntry> {
    return this.setStatus(tenantId, 'suspended');
  }

  /** Lifts a suspension. */
  async resume(tenantId: string): Promise<TenantConfigEntry> {
    return this.setStatus(tenantId, 'active');
  }

  /** Most tenants in memory at once, as now set (see {@link setCapacity}). */
  get capacity(): number {
    return this.residents.capacity;
  }

  /**
   * Changes how many tenants may be in memory at once, within 1 and the `capacity` the manager was
   * built with (a host that measures what each tenant costs adjusts it as it learns). Lowering it
   * evicts nobody at once: each later activation over the new limit evicts an idle tenant first.
   * Returns the capacity now in force.
   */
  setCapacity(capacity: number): number {
    return this.residents.setCapacity(capacity);
  }

  /** Counters and gauges for monitoring. */
  stats(): TenantManagerStats {
    return {
      capacity: this.capacity,
      resident: this.residents.size,
      pinned: this.residents.pinned,
      activating: this.counters.activating,
      queued: this.queue.length,
      activations: this.counters.activations,
      activationFailures: this.counters.activationFailures,
      evictions: { ...this.evictions },
      auth: this.authenticator.stats(),
    };
  }

  /**
   * Drains and shuts down: new acquires fail with `CLOSED`, pinned tenants get up to `drainTimeoutMs`
   * to be released, then every tenant is evicted (`shutdown`), the `close` hook runs and the stores
   * are closed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.queue.failAll(closedError());
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    const deadline = this.now() + (this.options.drainTimeoutMs ?? 10_000);
    while (this.residents.pinned > 0 && this.now() < deadline) await delay(25);
    // Let in-flight activations finish (or fail) so none is left half-built.
    await Promise.allSettled(this.residents.items().map((slot) => slot.ready));
    await Promise.all(this.residents.items().map((slot) => this.deactivate(slot, 'shutdown')));
    await Promise.allSettled(this.deactivations.values());
    await this.notify('close');
    const { tokens, configs, workspaces, coordinator } = this.options;
    for (const store of [coordinator, workspaces, configs, tokens]) {
      try {
        await store?.close?.();
      } catch (error) {
        this.warn('closing a store', error);
      }
    }
  }

  /** `seen` is what the caller just found resident, so the first pass need not look again. */
  private async acquireSlow(tenantId: string, seen: TenantSlot | undefined): Promise<Lease> {
    assertTenantId(tenantId);
    const deadline = this.now() + (this.options.queue?.timeoutMs ?? 10_000);
    for (let pass = 0; ; pass++) {
      if (this.closing) throw closedError();
      const slot = pass === 0 ? seen : this.residents.get(tenantId);
      if (slot !== undefined) {
        if (slot.state === 'active') return this.lease(slot);
        // Join the activation in flight: its failure is ours too, so a failing store is asked once.
        await slot.ready;
        continue;
      }
      const leaving = this.deactivations.get(tenantId);
      if (leaving !== undefined) {
        await leaving;
        continue;
      }
      const fresh = this.newSlot(tenantId);
      const admission = this.residents.admit(tenantId, fresh);
      if (!admission.admitted) {
        if (this.options.whenFull !== 'wait') throw this.queue.capacityError(`${this.capacity} tenants, all pinned`);
        await this.queue.wait(deadline, this.now());
        continue;
      }
      if (admission.victim) await this.deactivate(admission.victim.item, 'lru');
      // Tenants still shutting down hold their resources: never run more than `capacity` at once.
      // (A lowered capacity may leave more residents than it allows; they leave one per activation.)
      while (this.deactivations.size > 0 && this.residents.size + this.deactivations.size > this.capacity)
        await Promise.race(this.deactivations.values());
      return this.activate(fresh);
    }
  }

  private newSlot(tenantId: string): TenantSlot {
    // Born with the activator's pin, so nothing can evict it half-built.
    return {
      tenantId,
      pins: 1,
      resident: false,
      state: 'activating',
      workspace: undefined,
      config: this.defaults,
      configVersion: 0,
      claim: undefined,
      idleSince: 0,
      idleTimer: undefined,
      ready: undefined,
      claimLost: false,
      lossCause: undefined,
    };
  }

  private async activate(slot: TenantSlot): Promise<Lease> {
    const { tenantId } = slot;
    let settle!: (error?: unknown) => void;
    slot.ready = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    slot.ready.catch(() => undefined);
    this.counters.activating++;
    try {
      await this.hooks.callHook('tenant:activate', { tenantId });
      slot.claim = await this.claim(slot);
      const entry = await this.options.configs.get(tenantId);
      if (entry?.status === 'suspended') throw new MultiTenantError('TENANT_SUSPENDED', `${tenantId} is suspended.`);
      if (entry?.status === 'deleted') throw new MultiTenantError('TENANT_UNKNOWN', `${tenantId} was deleted.`);
      slot.config = this.mergeConfig(tenantId, entry?.config ?? {});
      slot.configVersion = entry?.version ?? 0;
      slot.workspace = await this.options.workspaces.open(tenantId, slot.claim ? { claim: slot.claim } : {});
      if (this.closing) throw closedError();
      // A claim lost while we were still activating must not leave a tenant active without one.
      if (slot.claimLost)
        throw new MultiTenantError('LEASE_LOST', `The claim on ${tenantId} was lost during activation; retry.`, { retryAfterMs: 250 });
      await this.hooks.callHook('tenant:activated', {
        tenantId,
        workspace: slot.workspace,
        config: slot.config,
        configVersion: slot.configVersion,
      });
      if (slot.claimLost)
        throw new MultiTenantError('LEASE_LOST', `The claim on ${tenantId} was lost during activation; retry.`, { retryAfterMs: 250 });
      slot.state = 'active';
      this.counters.activations++;
      settle();
      // Joiners already hold the promise; a resident tenant need not keep it alive.
      slot.ready = undefined;
      return new ActiveLease(slot, this.releaseSlot);
    } catch (error) {
      this.counters.activationFailures++;
      const failure = toMultiTenantError(error, 'INTERNAL', `Activating ${tenantId} failed.`);
      await this.rollback(slot);
      settle(failure);
      throw failure;
    } finally {
      this.counters.activating--;
    }
  }

  private async claim(slot: TenantSlot): Promise<TenantClaim | undefined> {
    const coordinator = this.options.coordinator;
    if (coordinator === undefined) return undefined;
    const deadline = this.now() + (this.options.leaseWaitMs ?? 0);
    for (;;) {
      try {
        return await coordinator.claim(slot.tenantId, {
          onLost: (_claim, _reason, cause) => {
            slot.claimLost = true;
            slot.lossCause = cause ?? 'taken-over';
            if (slot.state === 'active') void this.deactivate(slot, 'lease-lost');
          },
        });
      } catch (error) {
        if (!isMultiTenantError(error, 'LEASE_HELD') || this.now() >= deadline || this.closing) throw error;
        await delay(Math.min(error.retryAfterMs ?? 250, Math.max(1, deadline - this.now())));
      }
    }
  }

  private async rollback(slot: TenantSlot): Promise<void> {
    slot.state = 'deactivating';
    this.residents.remove(slot.tenantId, slot);
    slot.pins = 0;
    try {
      await slot.workspace?.close();
    } catch (error) {
      this.warn(`closing the workspace of ${slot.tenantId}`, error);
    }
    if (slot.claim) await this.options.coordinator?.release(slot.claim).catch((error) => this.warn('releasing a claim', error));
    this.queue.wakeOne();
  }

  private lease(slot: TenantSlot): Lease {
    this.residents.pin(slot);
    return new ActiveLease(slot, this.releaseSlot);
  }

  private readonly releaseSlot = (slot: TenantSlot): void => {
    if (!this.residents.unpin(slot) || !slot.resident || slot.state !== 'active') return;
    slot.idleSince = this.now();
    this.queue.wakeOne();
    if (this.idleTimeoutMs > 0 && slot.idleTimer === undefined) this.scheduleIdleCheck(slot, this.idleTimeoutMs);
  };

  // One lazy timer per idle tenant: re-armed for the remainder instead of reset on every release.
  private scheduleIdleCheck(slot: TenantSlot, delayMs: number): void {
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = undefined;
      if (!slot.resident || slot.state !== 'active' || slot.pins > 0) return;
      const idleFor = this.now() - slot.idleSince;
      if (idleFor >= this.idleTimeoutMs) void this.deactivate(slot, 'idle');
      else this.scheduleIdleCheck(slot, this.idleTimeoutMs - idleFor);
    }, delayMs);
    slot.idleTimer.unref();
  }

  private deactivate(slot: TenantSlot, reason: EvictionReason): Promise<void> {
    const existing = this.deactivations.get(slot.tenantId);
    if (slot.state === 'deactivating') return existing ?? Promise.resolve();
    slot.state = 'deactivating';
    this.residents.remove(slot.tenantId, slot);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    const done = this.runDeactivation(slot, reason).finally(() => {
      if (this.deactivations.get(slot.tenantId) === done) this.deactivations.delete(slot.tenantId);
      this.queue.wakeOne();
    });
    this.deactivations.set(slot.tenantId, done);
    return done;
  }

  private async runDeactivation(slot: TenantSlot, reason: EvictionReason): Promise<void> {
    const { tenantId } = slot;
    const cause = reason === 'lease-lost' && slot.lossCause !== undefined ? { cause: slot.lossCause } : {};
    await this.notify('tenant:evict', { tenantId, reason, workspace: slot.workspace!, ...cause });
    try {
      await slot.workspace?.close();
    } catch (error) {
      this.warn(`writing back the workspace of ${tenantId}`, error);
    }
    this.evictions[reason]++;
    await this.notify('tenant:evicted', { tenantId, reason });
    // Released last: until now another node taking over could overlap with our hooks.
    if (slot.claim) await this.options.coordinator?.release(slot.claim).catch((error) => this.warn('releasing a claim', error));
  }

  private mergeConfig(tenantId: string, config: TenantConfig): TenantConfig {
    const merged = mergeTenantConfig(this.defaults, assertTenantConfig(config));
    if (this.options.validateConfig === undefined) return merged;
    try {
      return this.options.validateConfig(merged, tenantId);
    } catch (error) {
      throw toMultiTenantError(error, 'CONFIG_INVALID', `Invalid config for ${tenantId}: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  private onTokenChange(change: TokenChange): void {
    this.authenticator.invalidateHash(change.tokenHash);
    if (change.type === 'revoked') void this.notify('token:revoked', { tokenHash: change.tokenHash, tenantId: change.tenantId });
  }

  private async setStatus(tenantId: string, status: 'active' | 'suspended'): Promise<TenantConfigEntry> {
    const set = this.options.configs.set;
    if (set === undefined) throw new MultiTenantError('NOT_SUPPORTED', `Config source "${this.options.configs.name}" is read-only.`);
    const entry = await set.call(this.options.configs, assertTenantId(tenantId), { status });
    this.authenticator.invalidateTenant(tenantId);
    await this.applyConfig(entry);
    return entry;
  }

  /** Calls a notification hook; its failures are logged, never propagated. */
  private async notify<K extends keyof TenantHooks>(name: K, ...args: Parameters<TenantHooks[K]>): Promise<void> {
    try {
      const call = this.hooks.callHook as (this: Hookable<TenantHooks>, name: K, ...rest: unknown[]) => unknown;
      await call.call(this.hooks, name, ...args);
    } catch (error) {
      this.warn(`hook ${name}`, error);
    }
  }

  private warn(what: string, error: unknown): void {
    this.log.warn(`${what} failed:`, error);
  }
}

function closedError(): MultiTenantError {
  return new MultiTenantError('CLOSED', 'The tenant manager is shutting down.');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function positiveInteger(value: number, key: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive integer, got ${String(value)}.`);
  return value;
}

function nonNegativeInteger(value: number, key: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a non-negative integer, got ${String(value)}.`);
  return value;
}
