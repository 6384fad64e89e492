import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/**
 * The front door's own device identity towards its cells: an Ed25519 key made once per runtime,
 * held in memory only. A cell pairs a loopback client that holds its token and signs the challenge
 * silently, and some of OpenClaw's methods want a paired device on top of a scope (the live
 * message feed with approvals the Control UI subscribes to asks `operator.approvals` and a
 * device). The identity grants nothing the cell's token does not already grant.
 */
export interface BridgeDevice {
  /** SHA-256 of the raw public key, hex (OpenClaw's device id). */
  readonly id: string;
  /** The raw 32-byte public key, base64url. */
  readonly publicKey: string;
  /** Signs a UTF-8 payload; base64url. */
  sign(payload: string): string;
}

/** What a signed `connect` says about the client, as OpenClaw signs it (`v3|id|client|mode|role|scopes|signedAt|token|nonce|platform|family`). */
export interface DeviceSignatureInput {
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  token: string;
  nonce: string;
  platform: string;
  signedAt: number;
}

/** The `device` field of a `connect` request. */
export interface DeviceConnectField {
  id: string;
  publicKey: string;
  signature: string;
  signedAt: number;
  nonce: string;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it.
const ED25519_SPKI_PREFIX_LENGTH = 12;

/** Makes a fresh device identity. */
export function createBridgeDevice(): BridgeDevice {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX_LENGTH);
  const key: KeyObject = privateKey;
  return {
    id: createHash('sha256').update(raw).digest('hex'),
    publicKey: raw.toString('base64url'),
    sign: (payload) => sign(null, Buffer.from(payload, 'utf8'), key).toString('base64url'),
  };
}

/** Lower-cases ASCII letters only, as OpenClaw normalises platform and device family before signing. */
function metadata(value: string): string {
  return value.trim().replace(/[A-Z]/g, (char) => char.toLowerCase());
}

/** The signed `device` field for one `connect` to a cell (no device family). */
export function signedDeviceField(device: BridgeDevice, input: DeviceSignatureInput): DeviceConnectField {
  const payload = [
    'v3',
    device.id,
    input.clientId,
    input.clientMode,
    input.role,
    input.scopes.join(','),
    String(input.signedAt),
    input.token,
    input.nonce,
    metadata(input.platform),
    '',
  ].join('|');
  return { id: device.id, publicKey: device.publicKey, signature: device.sign(payload), signedAt: input.signedAt, nonce: input.nonce };
}
