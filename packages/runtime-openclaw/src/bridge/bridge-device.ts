import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';
import { createFileExclusive } from '@openclaw-mt/core/helpers';

/**
 * The front door's own device identity towards its cells: an Ed25519 key, kept in an operator-only
 * file so a restarted front door is the device its cells already paired (else in memory). A cell pairs a loopback client that holds its token and signs the challenge
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

/** Makes a fresh device identity, held in memory only. */
export function createBridgeDevice(): BridgeDevice {
  return deviceOf(generateKeyPairSync('ed25519').privateKey);
}

/**
 * The device identity kept in `path` (a PKCS#8 PEM, 0600 in a 0700 directory), made there on first
 * use. Two processes starting at once agree on one key: the file is created exclusively and read back.
 * A file that holds no Ed25519 key is refused (`CONFIG_INVALID`), never replaced.
 */
export async function loadBridgeDevice(path: string): Promise<BridgeDevice> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const fresh = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
  await createFileExclusive(path, fresh, { mode: 0o600 });
  const key = ed25519KeyOf(await readFile(path, 'utf8'));
  if (key === undefined) {
    throw new MultiTenantError(
      'CONFIG_INVALID',
      `${path} holds no Ed25519 private key (the front door's device identity towards its OpenClaw gateways); delete it to make a new one.`,
      { details: { reason: 'bridge-device-key' } },
    );
  }
  return deviceOf(key);
}

function ed25519KeyOf(pem: string): KeyObject | undefined {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

function deviceOf(key: KeyObject): BridgeDevice {
  const raw = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX_LENGTH);
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
