import { MultiTenantError } from '../errors/multi-tenant-error.js';
import type { TokenRecord } from '../contracts/token-store.js';
import { tenantIdProblem } from '../tenants/tenant-id.js';
import { isTokenHash } from './token-hasher.js';

const STATUSES = new Set(['active', 'revoked', 'expired']);
const MAX_LABEL_LENGTH = 200;

function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Why `record` is not a valid {@link TokenRecord}, or `undefined` when it is. */
export function tokenRecordProblem(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return 'a token record must be an object';
  const r = record as Partial<TokenRecord>;
  if (!isTokenHash(r.tokenHash)) return 'tokenHash must be 64 lowercase hex characters';
  const idProblem = tenantIdProblem(r.tenantId);
  if (idProblem !== undefined) return `tenantId: ${idProblem}`;
  if (!STATUSES.has(r.status as string)) return 'status must be active, revoked or expired';
  if (!isEpochMs(r.createdAt)) return 'createdAt must be epoch milliseconds';
  if (r.expiresAt !== undefined && !isEpochMs(r.expiresAt)) return 'expiresAt must be epoch milliseconds';
  if (r.label !== undefined && (typeof r.label !== 'string' || r.label.length > MAX_LABEL_LENGTH)) {
    return `label must be a string of at most ${MAX_LABEL_LENGTH} characters`;
  }
  if (r.rotatedTo !== undefined && !isTokenHash(r.rotatedTo)) return 'rotatedTo must be a token hash';
  return undefined;
}

/** Throws `BAD_REQUEST` unless `record` is a valid {@link TokenRecord}; adapters call it before writing. */
export function assertTokenRecord(record: unknown): TokenRecord {
  const problem = tokenRecordProblem(record);
  if (problem !== undefined) throw new MultiTenantError('BAD_REQUEST', `Invalid token record: ${problem}.`);
  return record as TokenRecord;
}

/** Throws `BAD_REQUEST` unless `value` is a stored-token hash. */
export function assertTokenHash(value: unknown): string {
  if (!isTokenHash(value)) throw new MultiTenantError('BAD_REQUEST', 'Invalid token hash: expected 64 lowercase hex characters.');
  return value;
}

/** Whether a record authenticates at `now`: active and not past its expiry. */
export function isTokenUsable(record: Pick<TokenRecord, 'status' | 'expiresAt'>, now: number): boolean {
  return record.status === 'active' && (record.expiresAt === undefined || record.expiresAt > now);
}
