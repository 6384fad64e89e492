import { z } from 'zod';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { isValidTenantId } from '../tenants/tenant-id.js';
import { createDebouncedWriter } from './debounced-writer.js';
import { readStateFile, writeStateFile } from './state-file.js';

/**
 * What the backend last said about one token, as the outage grace keeps it: hashes, never the token.
 * Only `active` answers are kept; anything else removes the record.
 */
export interface VerifiedTokenRecord {
  /** The gateway's hash of the token (HMAC with the current pepper, or SHA-256): the auth cache key. */
  tokenHash: string;
  /** SHA-256 of the token, as the backend names it in token events (same as `tokenHash` without peppers). */
  backendHash: string;
  tenantId: string;
  /** When the token stops working, if it expires. */
  expiresAt?: number;
  /** When the backend last answered `active` for it (epoch ms). */
  verifiedAt: number;
}

/**
 * Persists the outage grace so a restart during a backend outage still admits users verified shortly before.
 * `put` and `delete` are cheap and synchronous; the store writes them out within its flush delay.
 */
export interface VerifiedTokenStore {
  readonly name: string;
  /** Every record saved before (possibly stale ones; the caller applies the grace window). */
  load(): Promise<VerifiedTokenRecord[]>;
  put(record: VerifiedTokenRecord): void;
  delete(tokenHash: string): void;
  /** Deletes every record of a token named by its backend hash (a revocation the gateway may not map to its own hash). */
  deleteBackendHash(backendHash: string): void;
  /** Writes pending changes now. */
  flush(): Promise<void>;
}

const HASH = /^[0-9a-f]{64}$/;
const recordSchema = z.object({
  tokenHash: z.string().regex(HASH),
  backendHash: z.string().regex(HASH),
  tenantId: z.string().refine(isValidTenantId),
  expiresAt: z.int().nonnegative().optional(),
  verifiedAt: z.int().nonnegative(),
});

/** A verified-token store in memory: the grace survives nothing (the default when no file is given). */
export function createMemoryVerifiedTokenStore(): VerifiedTokenStore & { readonly size: number } {
  const records = new Map<string, VerifiedTokenRecord>();
  return {
    name: 'memory',
    get size() {
      return records.size;
    },
    async load() {
      return [...records.values()].map((record) => ({ ...record }));
    },
    put(record) {
      records.set(record.tokenHash, { ...record });
    },
    delete(tokenHash) {
      records.delete(tokenHash);
    },
    deleteBackendHash(backendHash) {
      for (const [key, record] of records) if (record.backendHash === backendHash) records.delete(key);
    },
    async flush() {},
  };
}

/**
 * A verified-token store in one JSON-lines file (mode 0600, replaced atomically at most every
 * `flushDelayMs`, default 1 s). Unreadable lines are skipped; a missing file is an empty store.
 */
export function createFileVerifiedTokenStore(
  path: string,
  options: { flushDelayMs?: number; onError?: (error: MultiTenantError) => void } = {},
): VerifiedTokenStore {
  if (typeof path !== 'string' || path.length === 0)
    throw new MultiTenantError('CONFIG_INVALID', 'verified-token store path: expected a file path.');
  const records = new Map<string, VerifiedTokenRecord>();
  // Hashes deleted before the file was read: a revocation must not come back from disk.
  const forgotten = new Set<string>();
  const forgottenBackend = new Set<string>();
  let isLoaded = false;
  const report = (message: string, cause?: unknown) =>
    options.onError?.(new MultiTenantError('BACKEND_UNAVAILABLE', message, cause === undefined ? {} : { cause }));
  let loaded: Promise<void> | undefined;
  const load = () => {
    loaded ??= (async () => {
      const text = await readStateFile(path).catch((error: unknown) => {
        report(`Cannot read the verified-token file ${path}; the outage grace starts empty.`, error);
        return undefined;
      });
      for (const line of text?.split('\n') ?? []) {
        if (line.trim() === '') continue;
        try {
          const record = recordSchema.parse(JSON.parse(line)) as VerifiedTokenRecord;
          // Changes made before the load finished win over what the file says.
          if (records.has(record.tokenHash) || forgotten.has(record.tokenHash) || forgottenBackend.has(record.backendHash)) continue;
          records.set(record.tokenHash, record);
        } catch {
          // A torn or foreign line costs one token's grace, nothing more.
        }
      }
      forgotten.clear();
      forgottenBackend.clear();
      isLoaded = true;
    })();
    return loaded;
  };
  const writer = createDebouncedWriter(
    async () => {
      await load();
      const lines = [...records.values()].map((record) => JSON.stringify(record));
      await writeStateFile(path, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    },
    options.flushDelayMs ?? 1_000,
    (error) => report(`Cannot write the verified-token file ${path}.`, error),
  );
  return {
    name: 'file',
    async load() {
      await load();
      return [...records.values()].map((record) => ({ ...record }));
    },
    put(record) {
      records.set(record.tokenHash, { ...record });
      writer.schedule();
    },
    delete(tokenHash) {
      if (!isLoaded) forgotten.add(tokenHash);
      if (records.delete(tokenHash) || !isLoaded) writer.schedule();
    },
    deleteBackendHash(backendHash) {
      if (!isLoaded) forgottenBackend.add(backendHash);
      let changed = !isLoaded;
      for (const [key, record] of records) {
        if (record.backendHash !== backendHash) continue;
        records.delete(key);
        changed = true;
      }
      if (changed) writer.schedule();
    },
    flush: () => writer.flush(),
  };
}
