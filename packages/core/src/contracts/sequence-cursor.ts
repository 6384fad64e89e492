import { MultiTenantError } from '../errors/multi-tenant-error.js';

/**
 * Reads a change-feed cursor that is a decimal sequence number, as issued by sources that number
 * their changes (the in-memory source, SQL sources). `undefined` or `''` means "from the start";
 * anything else is refused with `BAD_REQUEST`.
 */
export function parseSequenceCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,15}$/.test(cursor))
    throw new MultiTenantError('BAD_REQUEST', 'Invalid change cursor: pass back a cursor this source returned.');
  return Number(cursor);
}
