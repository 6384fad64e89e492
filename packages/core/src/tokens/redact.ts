import { TOKEN_PREFIX } from './token-format.js';

const TOKEN_PATTERN = /gt_[0-9A-Za-z]{4,}/g;
// The original fork's tokens (`gw_` + url-safe base64) are as secret as ours.
const GW_TOKEN_PATTERN = /gw_[0-9A-Za-z_-]{4,}/g;
const BEARER_PATTERN = /\b(Bearer|Basic)\s+[^\s"',;]+/gi;
const SECRET_KEY_PATTERN = /(token|secret|password|pepper|authorization|apikey|api_key|credential)/i;
// Keys like `tokenHint` or `tokenHash` describe a secret without holding it.
const SAFE_KEY_SUFFIX = /(hint|hash|count|id|expiresat|createdat)$/i;
const REDACTED = '[redacted]';

function namesSecret(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key) && !SAFE_KEY_SUFFIX.test(key);
}

/**
 * A short, non-secret hint for a token (`gt_…` plus its last 4 checksum characters; `gw_…` plus its last 4) for
 * logs and listings.
 */
export function tokenHint(token: string): string {
  if (typeof token !== 'string' || token.length <= 10) return REDACTED;
  const prefix = token.slice(0, 3);
  return prefix === TOKEN_PREFIX || prefix === 'gw_' ? `${prefix}…${token.slice(-4)}` : REDACTED;
}

/** Replaces gateway tokens (`gt_…`, `gw_…`) and bearer credentials in free text, plus any of `secrets` given verbatim. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(TOKEN_PATTERN, `${TOKEN_PREFIX}${REDACTED}`)
    .replace(GW_TOKEN_PATTERN, `gw_${REDACTED}`)
    .replace(BEARER_PATTERN, `$1 ${REDACTED}`);
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * Deep-copies a value for logging: strings are passed through {@link redactText}, values under keys that
 * name a secret (`token`, `serviceToken`, `password`, `authorization`, …) are replaced, errors keep
 * their name, code and redacted message. Cycles and depth are bounded.
 */
export function redact(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[…]';
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    const copy = new Error(redactText(value.message, secrets));
    copy.name = value.name;
    if (code !== undefined) Object.assign(copy, { code });
    copy.stack = value.stack === undefined ? undefined : redactText(value.stack, secrets);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = namesSecret(key) && typeof item === 'string' ? REDACTED : redact(item, secrets, depth + 1);
  }
  return out;
}
