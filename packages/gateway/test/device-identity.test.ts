import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isMultiTenantError } from '@openclaw-mt/core';
import { verifyDeviceIdentity, type ConnectParams } from '@openclaw-mt/gateway/protocol';

const NONCE = 'abc123';
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
const id = createHash('sha256').update(raw).digest('hex');

/** A connect as OpenClaw's TUI sends it, signed (v3) over `nonce`. */
function signedConnect(overrides: { nonce?: string; signedAt?: number; token?: string; scopes?: string[] } = {}): ConnectParams {
  const signedAt = overrides.signedAt ?? Date.now();
  const nonce = overrides.nonce ?? NONCE;
  const scopes = overrides.scopes ?? ['operator.read', 'operator.write'];
  const payload = ['v3', id, 'openclaw-tui', 'ui', 'operator', scopes.join(','), String(signedAt), 'gt_token', nonce, 'linux', ''].join(
    '|',
  );
  return {
    minProtocol: 3,
    maxProtocol: 4,
    client: { id: 'openclaw-tui', mode: 'ui', platform: 'Linux' },
    role: 'operator',
    scopes,
    auth: { token: overrides.token ?? 'gt_token' },
    device: {
      id,
      publicKey: raw.toString('base64url'),
      signature: sign(null, Buffer.from(payload), privateKey).toString('base64url'),
      signedAt,
      nonce,
    },
  } as ConnectParams;
}

function reasonOf(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    return isMultiTenantError(error, 'BAD_REQUEST') ? String(error.details.reason) : 'other';
  }
  return undefined;
}

describe('verifyDeviceIdentity', () => {
  it('accepts a signature over this connection nonce, and a connect without a device', () => {
    expect(reasonOf(() => verifyDeviceIdentity(signedConnect(), NONCE))).toBeUndefined();
    expect(reasonOf(() => verifyDeviceIdentity({ minProtocol: 3, maxProtocol: 4 }, NONCE))).toBeUndefined();
  });

  it('refuses a bad signature, another nonce, a stale one, another key and anything changed after signing, with OpenClaw reasons', () => {
    const good = signedConnect();
    const device = (good as unknown as { device: Record<string, unknown> }).device;
    expect(reasonOf(() => verifyDeviceIdentity(good, 'other-nonce'))).toBe('device-nonce-mismatch');
    expect(reasonOf(() => verifyDeviceIdentity({ ...good, device: { ...device, signature: 'AAAA' } } as ConnectParams, NONCE))).toBe(
      'device-signature',
    );
    expect(reasonOf(() => verifyDeviceIdentity({ ...good, scopes: ['operator.admin'] }, NONCE))).toBe('device-signature');
    expect(reasonOf(() => verifyDeviceIdentity({ ...good, auth: { token: 'gt_other' } }, NONCE))).toBe('device-signature');
    expect(reasonOf(() => verifyDeviceIdentity(signedConnect({ signedAt: Date.now() - 10 * 60_000 }), NONCE))).toBe(
      'device-signature-stale',
    );
    expect(reasonOf(() => verifyDeviceIdentity({ ...good, device: { ...device, id: '0'.repeat(64) } } as ConnectParams, NONCE))).toBe(
      'device-id-mismatch',
    );
    expect(
      reasonOf(() => verifyDeviceIdentity({ ...good, device: { ...device, publicKey: 'bm90IGEga2V5' } } as ConnectParams, NONCE)),
    ).toBe('device-public-key');
    expect(reasonOf(() => verifyDeviceIdentity({ ...good, device: { ...device, nonce: '' } } as ConnectParams, NONCE))).toBe(
      'device-nonce-missing',
    );
    expect(reasonOf(() => verifyDeviceIdentity({ ...good, device: 'x' } as ConnectParams, NONCE))).toBe('device-invalid');
  });
});
