import { hostname, userInfo } from 'node:os';
import type { AuditEntry, AuditLog } from '../contracts/audit-log.js';
import { isMultiTenantError } from '../errors/multi-tenant-error.js';

/** The actor name of the current OS user on this host, for tools run by an operator. */
export function localActor(tool: string): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep "unknown".
  }
  return `${tool}:${user}@${hostname()}`;
}

/** What {@link audited} records besides the outcome. */
export type AuditSubject = Pick<AuditEntry, 'actor' | 'action'> & Partial<Pick<AuditEntry, 'tenantId' | 'target' | 'details'>>;

/**
 * Runs an administrative action and records it — `ok`, or `error` with its code — then returns or
 * rethrows its outcome. An audit log that fails to write never hides the action's own result; it is
 * reported through `onAuditFailure`.
 */
export async function audited<T>(
  log: AuditLog | undefined,
  subject: AuditSubject | ((result: T) => AuditSubject),
  action: () => Promise<T>,
  onAuditFailure: (error: unknown) => void = () => undefined,
): Promise<T> {
  const write = async (entry: AuditEntry) => {
    try {
      await log?.append(entry);
    } catch (error) {
      onAuditFailure(error);
    }
  };
  try {
    const result = await action();
    await write({ ...(typeof subject === 'function' ? subject(result) : subject), at: Date.now(), result: 'ok' });
    return result;
  } catch (error) {
    const base = typeof subject === 'function' ? undefined : subject;
    if (base !== undefined) {
      await write({
        ...base,
        at: Date.now(),
        result: 'error',
        ...(isMultiTenantError(error) ? { code: error.code } : { code: 'INTERNAL' }),
      });
    }
    throw error;
  }
}
