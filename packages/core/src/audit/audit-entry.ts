import type { AuditEntry, AuditQuery } from '../contracts/audit-log.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { redactText } from '../tokens/redact.js';
import { tenantIdProblem } from '../tenants/tenant-id.js';

const ACTION = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;
const MAX_TEXT = 512;

function clean(text: string): string {
  return redactText(text).slice(0, MAX_TEXT);
}

/**
 * Validates an audit entry and scrubs its free-text fields (tokens and bearer credentials are
 * redacted, lengths capped), so a log never holds a secret even when a caller slips. Throws
 * `BAD_REQUEST` for malformed entries. Adapters call it in `append`.
 */
export function assertAuditEntry(entry: AuditEntry): AuditEntry {
  const fail = (why: string) => new MultiTenantError('BAD_REQUEST', `Invalid audit entry: ${why}.`);
  if (typeof entry !== 'object' || entry === null) throw fail('expected an object');
  if (!Number.isSafeInteger(entry.at) || entry.at < 0) throw fail('at must be epoch milliseconds');
  if (typeof entry.actor !== 'string' || entry.actor.length === 0) throw fail('actor is required');
  if (typeof entry.action !== 'string' || !ACTION.test(entry.action)) throw fail('action must look like "token.create"');
  if (entry.result !== 'ok' && entry.result !== 'error') throw fail('result must be ok or error');
  if (entry.tenantId !== undefined && tenantIdProblem(entry.tenantId) !== undefined) throw fail('tenantId is not a valid tenant id');
  const details: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(entry.details ?? {})) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) throw fail(`details.${key} must be a string, number or boolean`);
    details[clean(key)] = typeof value === 'string' ? clean(value) : value;
  }
  return {
    at: entry.at,
    actor: clean(entry.actor),
    action: entry.action,
    ...(entry.tenantId === undefined ? {} : { tenantId: entry.tenantId }),
    ...(entry.target === undefined ? {} : { target: clean(String(entry.target)) }),
    result: entry.result,
    ...(entry.code === undefined ? {} : { code: entry.code }),
    ...(Object.keys(details).length === 0 ? {} : { details }),
  };
}

/** Applies an {@link AuditQuery} to entries sorted newest first. */
export function filterAuditEntries(newestFirst: Iterable<AuditEntry>, query: AuditQuery = {}): AuditEntry[] {
  const limit = query.limit ?? 100;
  const out: AuditEntry[] = [];
  for (const entry of newestFirst) {
    if (out.length >= limit) break;
    if (query.since !== undefined && entry.at < query.since) break;
    if (query.tenantId !== undefined && entry.tenantId !== query.tenantId) continue;
    out.push(entry);
  }
  return out;
}
