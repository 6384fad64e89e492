import { createHmac, timingSafeEqual } from 'node:crypto';

/** The upgrade header that carries a node's proof that it knows the fleet secret. */
export const FLEET_HEADER = 'x-openclaw-mt-fleet';

/** How far a credential's timestamp may be from this node's clock, either way. */
const TOLERANCE_MS = 60_000;

function mac(secret: string, stamp: string): Buffer {
  return createHmac('sha256', secret).update(`openclaw-mt-fleet:${stamp}`).digest();
}

/**
 * A short-lived credential for one internal connection: `<ms timestamp>.<HMAC-SHA256 hex>`. The secret
 * itself never crosses the wire, and a captured header stops working within a minute.
 */
export function signFleetCredential(secret: string, now = Date.now()): string {
  const stamp = String(now);
  return `${stamp}.${mac(secret, stamp).toString('hex')}`;
}

/** Whether `header` is a fresh credential made with `secret` (constant-time comparison). */
export function verifyFleetCredential(secret: string, header: unknown, now = Date.now()): boolean {
  if (typeof header !== 'string') return false;
  const match = /^(\d{1,16})\.([0-9a-f]{64})$/.exec(header);
  if (match === null) return false;
  const [, stamp, hex] = match as unknown as [string, string, string];
  if (Math.abs(now - Number(stamp)) > TOLERANCE_MS) return false;
  return timingSafeEqual(mac(secret, stamp), Buffer.from(hex, 'hex'));
}
