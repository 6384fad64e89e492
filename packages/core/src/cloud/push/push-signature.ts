import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying a push's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>` (one `v1` per secret). */
export const PUSH_SIGNATURE_HEADER = 'openclaw-signature';

/** How far a push's timestamp may be from the gateway's clock, either way (the replay window). */
export const DEFAULT_PUSH_TOLERANCE_MS = 5 * 60_000;

/** Why a signature was refused. */
export type PushSignatureProblem = 'missing' | 'malformed' | 'stale' | 'mismatch';

function mac(secret: string, timestamp: number, body: string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/**
 * Signs a push body the way gateways check it: HMAC-SHA256 with the shared secret over
 * `"<timestamp>.<raw body>"`, sent as `OpenClaw-Signature: t=<timestamp>,v1=<hex>` (the scheme of Stripe's
 * webhooks). Give several secrets during a rotation; each adds a `v1`.
 */
export function signPush(secrets: string | readonly string[], body: string, timestampSeconds: number): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return [
    `t=${Math.floor(timestampSeconds)}`,
    ...list.map((secret) => `v1=${mac(secret, Math.floor(timestampSeconds), body).toString('hex')}`),
  ].join(',');
}

/**
 * Checks a push signature against every accepted secret in constant time per candidate, and its timestamp
 * against the replay window. The body must be the exact bytes received (as UTF-8 text).
 */
export function verifyPushSignature(options: {
  header: string | undefined;
  body: string;
  secrets: readonly string[];
  nowMs: number;
  toleranceMs?: number;
}): { ok: true; timestampMs: number } | { ok: false; problem: PushSignatureProblem } {
  if (options.header === undefined || options.header.trim() === '') return { ok: false, problem: 'missing' };
  if (options.header.length > 4_096) return { ok: false, problem: 'malformed' };
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of options.header.split(',')) {
    const [key, value, ...rest] = part.trim().split('=');
    if (rest.length > 0 || value === undefined) return { ok: false, problem: 'malformed' };
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value)) return { ok: false, problem: 'malformed' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, problem: 'malformed' };
      candidates.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (a future v2) are ignored, as Stripe does.
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, problem: 'malformed' };
  const timestampMs = timestamp * 1000;
  if (Math.abs(options.nowMs - timestampMs) > (options.toleranceMs ?? DEFAULT_PUSH_TOLERANCE_MS)) return { ok: false, problem: 'stale' };
  let matched = false;
  for (const secret of options.secrets) {
    const expected = mac(secret, timestamp, options.body);
    // Every comparison runs: no early exit tells an attacker which candidate came close.
    for (const candidate of candidates) matched = timingSafeEqual(expected, candidate) || matched;
  }
  return matched ? { ok: true, timestampMs } : { ok: false, problem: 'mismatch' };
}
