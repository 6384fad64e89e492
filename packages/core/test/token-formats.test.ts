import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TenantManager, isMultiTenantError } from '@openclaw-mt/core';
import { createMemoryConfigSource, createMemoryTokenStore, createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import {
  createToken,
  createTokenFormatPolicy,
  createTokenHasher,
  redactText,
  tokenFormatProblem,
  tokenHint,
} from '@openclaw-mt/core/tokens';

const gwToken = () => `gw_${randomBytes(32).toString('base64url')}`;

describe('token formats', () => {
  test('property: with gt only, the policy is exactly the checksum check', () => {
    const policy = createTokenFormatPolicy(['gt']);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constant(createToken()),
          fc.string().map((s) => `gt_${s}`),
          fc.string().map((s) => `gw_${s}`),
        ),
        (input) => {
          expect(policy(input)).toBe(tokenFormatProblem(input));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('property: with gt and gw, a gt_ token still needs its checksum and a gw_ token needs its shape; anything else is refused by prefix', () => {
    const policy = createTokenFormatPolicy(['gt', 'gw']);
    const urlSafe = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-'.split('')), minLength: 16, maxLength: 200 });
    fc.assert(
      fc.property(
        fc.oneof(
          urlSafe.map((s) => `gw_${s}`),
          fc.string().map((s) => `gw_${s}`),
          fc.string(),
          fc.constant(createToken()),
        ),
        (input) => {
          const problem = policy(input);
          if (input.startsWith('gt_')) expect(problem).toBe(tokenFormatProblem(input));
          else if (input.startsWith('gw_'))
            expect(problem === undefined).toBe(/^gw_[A-Za-z0-9_-]{16,}$/.test(input) && input.length <= 256);
          else expect(problem).toContain('must start with "gt_" or "gw_"');
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('a gw_ token is refused before any lookup unless enabled, and authenticates through the store when it is', async () => {
    const token = gwToken();
    const hash = createTokenHasher().hash(token);
    const build = (tokenFormats?: Array<'gt' | 'gw'>) => {
      const tokens = createMemoryTokenStore();
      const lookups: string[] = [];
      const get = tokens.get!.bind(tokens);
      tokens.get = async (tokenHash) => {
        lookups.push(tokenHash);
        return get(tokenHash);
      };
      const manager = new TenantManager({
        tokens,
        configs: createMemoryConfigSource(),
        workspaces: createMemoryWorkspaceStore(),
        ...(tokenFormats ? { tokenFormats } : {}),
      });
      return { tokens, manager, lookups };
    };
    const strict = build();
    await strict.tokens.create!({ tokenHash: hash, tenantId: 'alice', status: 'active', createdAt: 1 });
    const refused = await strict.manager.authenticate(token).catch((error: unknown) => error);
    expect(isMultiTenantError(refused) && refused.code).toBe('TOKEN_MALFORMED');
    expect((refused as Error).message).not.toContain(token);
    expect(strict.lookups).toEqual([]);
    const open = build(['gt', 'gw']);
    await open.tokens.create!({ tokenHash: hash, tenantId: 'alice', status: 'active', createdAt: 1 });
    expect((await open.manager.authenticate(token)).tenantId).toBe('alice');
    await strict.manager.close();
    await open.manager.close();
  });

  test('gw_ tokens are redacted in text and hinted like ours', () => {
    const token = gwToken();
    expect(redactText(`verify-token?token=${token} failed`)).toBe('verify-token?token=gw_[redacted] failed');
    expect(tokenHint(token)).toBe(`gw_…${token.slice(-4)}`);
    expect(() => createTokenFormatPolicy([] as never)).toThrow(/non-empty/);
    expect(() => createTokenFormatPolicy(['gx' as never])).toThrow(/unknown format/);
  });
});
