import { MultiTenantError } from '@openclaw-mt/core';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `15m`, `12h`, `30d` (or plain milliseconds) into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) throw new MultiTenantError('BAD_REQUEST', `${flag}: expected a duration like 30s, 15m, 12h or 30d.`);
  const value = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(value) || value <= 0) throw new MultiTenantError('BAD_REQUEST', `${flag}: the duration is out of range.`);
  return value;
}
