/**
 * Opaque cursors of the config feed: base64url of `{"v":1,"s":<change sequence>}`. Gateways never
 * look inside; the backend may change the encoding at will (a new `v`) without breaking them.
 */
export function encodeCursor(sequence: number): string {
  return Buffer.from(JSON.stringify({ v: 1, s: sequence })).toString('base64url');
}

/** The change sequence a cursor stands for, or `undefined` when it is not one this backend issued. */
export function decodeCursor(cursor: string): number | undefined {
  if (cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; s?: unknown };
    if (value?.v !== 1 || typeof value.s !== 'number' || !Number.isSafeInteger(value.s) || value.s < 0) return undefined;
    // Only the canonical encoding is accepted, so each position has exactly one cursor.
    return encodeCursor(value.s) === cursor ? value.s : undefined;
  } catch {
    return undefined;
  }
}
