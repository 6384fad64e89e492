import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createToken, redact, redactText, tokenHint } from '@openclaw-mt/core/tokens';

describe('redaction', () => {
  test('a token anywhere in free text never survives', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        const token = createToken();
        const out = redactText(`${before}${token}${after}`);
        expect(out).not.toContain(token);
        expect(out).not.toContain(token.slice(3, 20));
      }),
      { numRuns: 500 },
    );
  });

  test('bearer credentials and listed secrets are scrubbed', () => {
    const out = redactText('Authorization: Bearer abc.def.ghi and service-secret-123 here', ['service-secret-123']);
    expect(out).not.toContain('abc.def.ghi');
    expect(out).not.toContain('service-secret-123');
  });

  test('objects: secret-named keys are replaced, other values redacted deeply, errors keep their code', () => {
    const token = createToken();
    const error = Object.assign(new Error(`bad token ${token}`), { code: 'TOKEN_UNKNOWN' });
    const out = redact({ serviceToken: 'plain-secret', nested: { note: `got ${token}` }, tokenHint: 'gt_…abcd', error }) as {
      serviceToken: unknown;
      tokenHint: unknown;
      error: { code: unknown; message: unknown };
    };
    expect(out.serviceToken).toBe('[redacted]');
    expect(out.tokenHint).toBe('gt_…abcd');
    expect(JSON.stringify(out)).not.toContain(token);
    expect(out.error.code).toBe('TOKEN_UNKNOWN');
    expect(out.error.message).not.toContain(token);
  });

  test('a hint reveals at most the last four checksum characters', () => {
    const token = createToken();
    expect(tokenHint(token)).toBe(`gt_…${token.slice(-4)}`);
    expect(tokenHint('short')).toBe('[redacted]');
  });
});
