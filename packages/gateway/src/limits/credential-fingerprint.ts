import { hash } from 'node:crypto';

/**
 * A short, one-way name for a presented credential, so failures can be counted per (address,
 * credential) without keeping the secret. 128 bits of SHA-256: distinct guesses never share a name.
 */
export function credentialFingerprint(token: string | undefined): string {
  if (token === undefined) return '(none)';
  return hash('sha256', token, 'base64url').slice(0, 22);
}
