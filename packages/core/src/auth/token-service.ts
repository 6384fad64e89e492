import type { TokenRecord, TokenStore } from '../contracts/token-store.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { createToken, isWellFormedToken } from '../tokens/token-format.js';
import { parseTokenIdPrefix, pickByPrefix } from '../tokens/token-id-prefix.js';
import { createTokenHasher, isTokenHash, type TokenHasher } from '../tokens/token-hasher.js';

/** A newly issued token: show `token` once, store nothing but `record`. */
export interface IssuedToken {
  token: string;
  record: TokenRecord;
}

/** Options for issuing a token. */
export interface IssueOptions {
  label?: string;
  /** Lifetime; the token never expires when omitted. */
  ttlMs?: number;
}

/** Hooks the token service calls so caches and connections follow every change. */
export interface TokenServiceEvents {
  onCreated(tokenHash: string): void;
  onRevoked(record: TokenRecord): Promise<void>;
  onRotated(oldHash: string): void;
}

/** Issues, lists, revokes and rotates tokens through a writable {@link TokenStore}. */
export class TokenService {
  constructor(
    private readonly store: TokenStore,
    private readonly hasher: TokenHasher,
    private readonly events: TokenServiceEvents,
    private readonly now: () => number,
    private readonly defaultGraceMs: number,
  ) {}

  /** Issues a new token for `tenantId`. The token is returned once and never stored. */
  async create(tenantId: string, options: IssueOptions = {}): Promise<IssuedToken> {
    const create = this.writable('create');
    const token = createToken();
    const record = this.newRecord(assertTenantId(tenantId), token, options);
    await create.call(this.store, record);
    this.events.onCreated(record.tokenHash);
    return { token, record };
  }

  /** Revokes a token given as the token itself or its stored hash. Throws `NOT_FOUND` if unknown. */
  async revoke(tokenOrHash: string): Promise<TokenRecord> {
    const revoke = this.writable('revoke');
    const hash = await this.storedHash(tokenOrHash);
    const record = await revoke.call(this.store, hash);
    if (record === undefined) throw new MultiTenantError('NOT_FOUND', 'No such token.');
    await this.events.onRevoked(record);
    return record;
  }

  /**
   * Issues a successor for a token and limits the old one to a grace period (default from the
   * manager options), so clients can switch without downtime. Returns the new token once.
   */
  async rotate(tokenOrHash: string, options: IssueOptions & { graceMs?: number } = {}): Promise<IssuedToken & { previous: TokenRecord }> {
    const rotate = this.writable('rotate');
    const hash = await this.storedHash(tokenOrHash);
    const current = await this.store.get?.(hash);
    if (current === undefined) throw new MultiTenantError('NOT_FOUND', 'No such token.');
    const token = createToken();
    const record = this.newRecord(current.tenantId, token, { ...options, label: options.label ?? current.label });
    const graceMs = options.graceMs ?? this.defaultGraceMs;
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new MultiTenantError('BAD_REQUEST', 'graceMs must be a non-negative integer.');
    const previous = await rotate.call(this.store, hash, record, this.now() + graceMs);
    this.events.onCreated(record.tokenHash);
    this.events.onRotated(hash);
    return { token, record, previous };
  }

  /** Every token record of a tenant (hashes and metadata only). */
  async list(tenantId: string): Promise<TokenRecord[]> {
    const list = this.store.listByTenant;
    if (list === undefined) throw new MultiTenantError('NOT_SUPPORTED', `Token store "${this.store.name}" cannot list tokens.`);
    return list.call(this.store, assertTenantId(tenantId));
  }

  /**
   * The hash a token is stored under (trying every pepper), the given hash itself, or the one stored
   * hash a prefix (a shown id such as `tokens list` prints) names: none is `NOT_FOUND`, several `BAD_REQUEST`.
   */
  async storedHash(tokenOrHash: string): Promise<string> {
    if (isTokenHash(tokenOrHash)) return tokenOrHash;
    const prefix = isWellFormedToken(tokenOrHash) ? undefined : parseTokenIdPrefix(tokenOrHash);
    if (prefix !== undefined) return pickByPrefix(await this.allHashes(), prefix);
    if (!isWellFormedToken(tokenOrHash)) {
      throw new MultiTenantError('BAD_REQUEST', 'Expected a gateway token, a 64-character token hash or a prefix of one.');
    }
    const candidates = this.hasher.candidates(tokenOrHash);
    // One pepper (or none): the answer is that hash whether stored or not, so asking the store is moot
    // (and a revocation made while the store is unreachable can still be queued).
    if (candidates.length === 1) return candidates[0]!;
    for (const candidate of candidates) {
      if ((await this.store.get?.(candidate)) !== undefined) return candidate;
    }
    return candidates[0]!;
  }

  /** Every stored token hash, for resolving a prefix. */
  private async allHashes(): Promise<string[]> {
    const { tenants, listByTenant } = this.store;
    if (tenants === undefined || listByTenant === undefined || !this.store.capabilities.list) {
      throw new MultiTenantError('NOT_SUPPORTED', `Token store "${this.store.name}" cannot list tokens; give the whole token or hash.`);
    }
    const hashes: string[] = [];
    for await (const tenantId of tenants.call(this.store)) {
      for (const record of await listByTenant.call(this.store, tenantId)) hashes.push(record.tokenHash);
    }
    return hashes;
  }

  private newRecord(tenantId: string, token: string, options: IssueOptions): TokenRecord {
    const createdAt = this.now();
    if (options.ttlMs !== undefined && (!Number.isSafeInteger(options.ttlMs) || options.ttlMs <= 0)) {
      throw new MultiTenantError('BAD_REQUEST', 'ttlMs must be a positive integer.');
    }
    return {
      tokenHash: this.hasher.hash(token),
      tenantId,
      status: 'active',
      createdAt,
      ...(options.ttlMs === undefined ? {} : { expiresAt: createdAt + options.ttlMs }),
      ...(options.label === undefined ? {} : { label: options.label }),
    };
  }

  private writable<K extends 'create' | 'revoke' | 'rotate'>(method: K): NonNullable<TokenStore[K]> {
    const fn = this.store[method];
    if (fn === undefined || !this.store.capabilities.write) {
      throw new MultiTenantError('NOT_SUPPORTED', `Token store "${this.store.name}" is read-only; manage tokens where it gets them from.`);
    }
    return fn as NonNullable<TokenStore[K]>;
  }
}

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  store: TokenStore;
  /** The same peppers the gateway uses, current first. */
  peppers?: readonly string[];
  /** How long a rotated-out token keeps working (default 1 h). */
  rotationGraceMs?: number;
  now?: () => number;
}

/**
 * Token administration without a manager, for tools that write to the stores a running gateway
 * watches (the CLI). Caches are the gateway's concern: it learns of changes through the store's watch.
 */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const noop = () => undefined;
  return new TokenService(
    options.store,
    createTokenHasher({ peppers: options.peppers ?? [] }),
    { onCreated: noop, onRotated: noop, onRevoked: async () => undefined },
    options.now ?? Date.now,
    options.rotationGraceMs ?? 60 * 60_000,
  );
}
