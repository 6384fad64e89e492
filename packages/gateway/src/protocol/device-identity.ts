import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { MultiTenantError } from '@openclaw-mt/core';
import type { ConnectParams } from './connect-params.js';

/** How far a device signature's `signedAt` may be from now (OpenClaw's own bound). */
const SIGNATURE_SKEW_MS = 120_000;
// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

interface DeviceIdentity {
  id: string;
  publicKey: string;
  signature: string;
  signedAt: number;
  nonce: string;
}

/** OpenClaw's reasons, and the `details.code` its clients know them by. */
const DEVICE_CODES = {
  'device-invalid': 'DEVICE_AUTH_INVALID',
  'device-id-mismatch': 'DEVICE_AUTH_DEVICE_ID_MISMATCH',
  'device-signature-stale': 'DEVICE_AUTH_SIGNATURE_EXPIRED',
  'device-nonce-missing': 'DEVICE_AUTH_NONCE_REQUIRED',
  'device-nonce-mismatch': 'DEVICE_AUTH_NONCE_MISMATCH',
  'device-signature': 'DEVICE_AUTH_SIGNATURE_INVALID',
  'device-public-key': 'DEVICE_AUTH_PUBLIC_KEY_INVALID',
} as const;

function refuse(reason: keyof typeof DEVICE_CODES, message: string): never {
  throw new MultiTenantError('BAD_REQUEST', `Device identity refused: ${message}.`, {
    details: { reason, deviceAuthCode: DEVICE_CODES[reason] },
  });
}

function publicKeyOf(text: string): KeyObject | undefined {
  try {
    if (text.includes('BEGIN')) return createPublicKey(text);
    const raw = Buffer.from(text, 'base64url');
    return raw.length === 32 ? createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' }) : undefined;
  } catch {
    return undefined;
  }
}

/** Lower-cases ASCII letters only, as OpenClaw normalises platform and device family before signing. */
function metadata(value: unknown): string {
  return typeof value === 'string' ? value.trim().replace(/[A-Z]/g, (char) => char.toLowerCase()) : '';
}

/**
 * Checks a client's signed device identity the way OpenClaw's gateway does: the id is the SHA-256
 * of the Ed25519 public key, `signedAt` is within two minutes, the nonce is this connection's
 * challenge, and the signature covers `v3|id|client|mode|role|scopes|signedAt|token|nonce|platform|family`
 * (or the older `v2` form without the last two). A connect without `device` passes. The identity
 * only proves the client holds a key; it grants nothing (the gateway token alone decides the tenant
 * and the operator's policy the scopes).
 *
 * @throws MultiTenantError `BAD_REQUEST` with OpenClaw's `details.reason` (`device-signature`, …).
 */
export function verifyDeviceIdentity(params: ConnectParams, nonce: string, now = Date.now()): void {
  const device = (params as { device?: unknown }).device;
  if (device === undefined || device === null) return;
  const { id, publicKey, signature, signedAt, nonce: signedNonce } = device as Partial<DeviceIdentity>;
  if (typeof id !== 'string' || typeof publicKey !== 'string' || typeof signature !== 'string' || publicKey.length > 4_096)
    refuse('device-invalid', 'device needs id, publicKey and signature');
  const key = publicKeyOf(publicKey);
  if (key === undefined || key.asymmetricKeyType !== 'ed25519') refuse('device-public-key', 'the public key is not an Ed25519 key');
  const raw = key.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
  if (createHash('sha256').update(raw).digest('hex') !== id) refuse('device-id-mismatch', 'the device id does not match its key');
  if (typeof signedAt !== 'number' || Math.abs(now - signedAt) > SIGNATURE_SKEW_MS)
    refuse('device-signature-stale', 'the signature expired');
  const given = typeof signedNonce === 'string' ? signedNonce.trim() : '';
  if (given === '') refuse('device-nonce-missing', 'the signature must cover the challenge nonce');
  if (given !== nonce) refuse('device-nonce-mismatch', 'the signature covers another challenge');
  const auth = (params.auth ?? {}) as { token?: unknown; deviceToken?: unknown; bootstrapToken?: unknown };
  const token = [auth.token, auth.deviceToken, auth.bootstrapToken].find((value) => typeof value === 'string') ?? '';
  const client = (params.client ?? {}) as { id?: unknown; mode?: unknown; platform?: unknown; deviceFamily?: unknown };
  const base = [
    id,
    String(client.id ?? ''),
    String(client.mode ?? ''),
    params.role ?? 'operator',
    (params.scopes ?? []).join(','),
    String(signedAt),
    token,
    given,
  ];
  const signatureBytes = Buffer.from(signature, 'base64url');
  const signs = (payload: string) => {
    try {
      return verify(null, Buffer.from(payload, 'utf8'), key, signatureBytes);
    } catch {
      return false;
    }
  };
  if (signs(['v3', ...base, metadata(client.platform), metadata(client.deviceFamily)].join('|'))) return;
  if (signs(['v2', ...base].join('|'))) return;
  refuse('device-signature', 'the signature does not verify');
}
