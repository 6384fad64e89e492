import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { assertTenantId } from '@openclaw-mt/core/contracts';

/** Every cell credential starts with this, so logs and scanners can recognise (and redact) one. */
export const CREDENTIAL_PREFIX = 'ocmg_';
const ID_CHARS = 16; // 12 random bytes, base64url: the public lookup half
const SECRET_CHARS = 43; // 32 random bytes (256 bits), base64url: the secret half, stored only as SHA-256
const CREDENTIAL_LENGTH = CREDENTIAL_PREFIX.length + ID_CHARS + SECRET_CHARS;
const CREDENTIAL_SHAPE = new RegExp(`^${CREDENTIAL_PREFIX}[A-Za-z0-9_-]{${ID_CHARS + SECRET_CHARS}}$`);
/** Matches credentials (and their tails) in free text, for redaction. */
export const CREDENTIAL_PATTERN = new RegExp(`${CREDENTIAL_PREFIX}[A-Za-z0-9_-]+`, 'g');

/** A credential just issued: shown once; the store keeps only its hash. */
export interface IssuedCredential {
  /** The secret a cell presents as its provider key (`ocmg_…`, 64 characters). */
  readonly credential: string;
  /** A public, non-secret id of this credential (for logs and listings). */
  readonly id: string;
  readonly tenantId: string;
  /** Revokes this credential: requests presenting it are refused from now on (requests already forwarded finish). */
  revoke(): void;
}

/**
 * A credential issued before its tenant is known (for a pre-booted cell): its requests reach no
 * provider until it is assigned, then it is the tenant's like any other. Until then they are held
 * unanswered (see the model gateway), so the cell can run OpenClaw's agent up to its first model call
 * and be stopped there without a failure OpenClaw would remember.
 */
export interface ReservedCredential {
  readonly credential: string;
  readonly id: string;
  /** Gives the credential to `tenantId` (`TENANT_ID_INVALID` for an id core's rules refuse); once only. */
  assign(tenantId: string): void;
  revoke(): void;
  /** Resolves when a request presents this credential while it is still reserved (rejects when `signal` aborts). */
  nextRequest(signal?: AbortSignal): Promise<void>;
}

interface Entry {
  /** Absent while reserved: such a credential reaches no provider. */
  tenantId: string | undefined;
  hash: Buffer;
  /** Waiting for the next request presenting it while reserved. */
  waiters?: Set<() => void>;
}

// One-shot crypto.hash: several times cheaper than createHash for a short input.
const sha256 = (text: string): Buffer => hash('sha256', text, 'buffer');

/**
 * Per-tenant cell credentials: a random public id (the lookup key) and a 256-bit secret, of which only the
 * SHA-256 is kept and compared in constant time. In memory: cells are children of the process holding it.
 */
export class CredentialStore {
  private readonly entries = new Map<string, Entry>();
  private readonly byTenant = new Map<string, Set<string>>();
  // Compared against when the id is unknown, so a miss costs what a hit costs.
  private readonly decoy = sha256(randomBytes(32).toString('base64url'));

  /** Issues a credential for `tenantId` (`TENANT_ID_INVALID` for an id core's rules refuse). */
  issue(tenantId: string): IssuedCredential {
    const reserved = this.reserve();
    reserved.assign(tenantId);
    return { credential: reserved.credential, id: reserved.id, tenantId, revoke: reserved.revoke };
  }

  /** Issues a credential that belongs to nobody yet: refused until {@link ReservedCredential.assign}. */
  reserve(): ReservedCredential {
    const id = randomBytes(12).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const entry: Entry = { tenantId: undefined, hash: sha256(secret), waiters: new Set() };
    this.entries.set(id, entry);
    return {
      credential: `${CREDENTIAL_PREFIX}${id}${secret}`,
      id,
      assign: (tenantId) => {
        assertTenantId(tenantId);
        if (entry.tenantId !== undefined) throw new Error('This credential was already assigned.');
        if (this.entries.get(id) !== entry) return;
        entry.tenantId = tenantId;
        entry.waiters = undefined;
        let ids = this.byTenant.get(tenantId);
        if (ids === undefined) {
          ids = new Set();
          this.byTenant.set(tenantId, ids);
        }
        ids.add(id);
      },
      revoke: () => this.revokeId(id),
      nextRequest: (signal) =>
        new Promise<void>((resolve, reject) => {
          const waiters = entry.waiters;
          if (waiters === undefined) return reject(new Error('This credential is no longer reserved.'));
          const onAbort = () => {
            waiters.delete(arrived);
            reject(signal?.reason ?? new Error('aborted'));
          };
          const arrived = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          if (signal?.aborted) return onAbort();
          signal?.addEventListener('abort', onAbort, { once: true });
          waiters.add(arrived);
        }),
    };
  }

  /** The tenant a credential belongs to, or `undefined` for anything else (malformed, unknown, revoked). */
  verify(credential: string | undefined): { tenantId: string; id: string } | undefined {
    if (credential === undefined || credential.length !== CREDENTIAL_LENGTH || !CREDENTIAL_SHAPE.test(credential)) return undefined;
    const id = credential.slice(CREDENTIAL_PREFIX.length, CREDENTIAL_PREFIX.length + ID_CHARS);
    const entry = this.entries.get(id);
    const presented = sha256(credential.slice(CREDENTIAL_PREFIX.length + ID_CHARS));
    const equal = timingSafeEqual(presented, entry?.hash ?? this.decoy);
    return equal && entry?.tenantId !== undefined ? { tenantId: entry.tenantId, id } : undefined;
  }

  /**
   * Whether `credential` is a live reserved one (checked in constant time, like {@link verify}); when it
   * is, whoever waits on its {@link ReservedCredential.nextRequest} learns a request came.
   */
  reportReserved(credential: string | undefined): boolean {
    if (credential === undefined || credential.length !== CREDENTIAL_LENGTH || !CREDENTIAL_SHAPE.test(credential)) return false;
    const id = credential.slice(CREDENTIAL_PREFIX.length, CREDENTIAL_PREFIX.length + ID_CHARS);
    const entry = this.entries.get(id);
    const presented = sha256(credential.slice(CREDENTIAL_PREFIX.length + ID_CHARS));
    const equal = timingSafeEqual(presented, entry?.hash ?? this.decoy);
    if (!equal || entry?.waiters === undefined) return false;
    const waiters = [...entry.waiters];
    entry.waiters.clear();
    for (const arrived of waiters) arrived();
    return true;
  }

  /** Revokes every credential of a tenant; returns how many there were. */
  revokeTenant(tenantId: string): number {
    const ids = this.byTenant.get(tenantId);
    if (ids === undefined) return 0;
    for (const id of ids) this.entries.delete(id);
    this.byTenant.delete(tenantId);
    return ids.size;
  }

  /** Live credentials. */
  get size(): number {
    return this.entries.size;
  }

  private revokeId(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    if (entry.tenantId === undefined) return;
    const ids = this.byTenant.get(entry.tenantId);
    ids?.delete(id);
    if (ids?.size === 0) this.byTenant.delete(entry.tenantId);
  }
}

/**
 * The credential a cell presented, from whichever header its SDK uses for the provider key
 * (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key`, `api-key`), in that order: the first one present counts.
 */
export function presentedCredential(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  for (const name of ['x-api-key', 'x-goog-api-key', 'api-key']) {
    const value = headers[name];
    if (typeof value === 'string') return value.trim();
  }
  return undefined;
}
