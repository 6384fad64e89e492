import type { ErrorShape } from './frames.js';

/** OpenClaw's Control UI, which tells a refused sign-in from an unreachable gateway only by OpenClaw's own codes. */
export const OPENCLAW_CONTROL_UI_CLIENT_ID = 'openclaw-control-ui';

/** The `details.code` OpenClaw's gateway gives for each refusal of a sign-in. */
function openClawAuthCode(details: Record<string, unknown>): string | undefined {
  switch (details.code) {
    case 'TOKEN_MALFORMED':
      return details.reason === 'token-missing' ? 'AUTH_TOKEN_MISSING' : 'AUTH_TOKEN_MISMATCH';
    case 'TOKEN_UNKNOWN':
    case 'TOKEN_REVOKED':
    case 'TOKEN_EXPIRED':
      return 'AUTH_TOKEN_MISMATCH';
    case 'TENANT_SUSPENDED':
    case 'TENANT_UNKNOWN':
      return 'AUTH_UNAUTHORIZED';
    case 'RATE_LIMITED':
      return details.reason === 'auth-lockout' ? 'AUTH_RATE_LIMITED' : undefined;
    default:
      return undefined;
  }
}

/**
 * A handshake refusal as OpenClaw's Control UI understands it: a refused token carries OpenClaw's
 * own `details.code` (`AUTH_TOKEN_MISSING`, `AUTH_TOKEN_MISMATCH`, `AUTH_UNAUTHORIZED`,
 * `AUTH_RATE_LIMITED`), so the UI shows its "secret rejected" form instead of "gateway unreachable"
 * and stops reconnecting where it would with OpenClaw. openclaw-mt's own code moves to
 * `details.gatewayCode`; the message is unchanged. Any other refusal is returned as it is.
 */
export function forOpenClawControlUi(shape: ErrorShape): ErrorShape {
  const details = shape.details ?? {};
  const code = openClawAuthCode(details);
  if (code === undefined) return shape;
  return { ...shape, details: { ...details, code, gatewayCode: details.code } };
}
