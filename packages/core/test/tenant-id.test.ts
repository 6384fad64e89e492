import { resolve, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { assertTenantId, isValidTenantId, MAX_TENANT_ID_LENGTH, tenantDirName, tenantIdFromDirName } from '@openclaw-mt/core/contracts';

const validId = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,60}[A-Za-z0-9_-])?$/);

describe('tenant ids', () => {
  test('valid ids pass; others are rejected with TENANT_ID_INVALID, never rewritten', () => {
    for (const id of ['alice', 'Alice', 'a', '0', 'user_1', 'a.b', 'a-b', '550e8400-e29b-41d4-a716-446655440000']) {
      expect(assertTenantId(id)).toBe(id);
    }
    for (const id of [
      '',
      '.',
      '..',
      '.hidden',
      '_x',
      '-x',
      'a.',
      'a/b',
      'a\\b',
      '../x',
      'a b',
      'é',
      'a\0',
      'a%2e',
      'x'.repeat(MAX_TENANT_ID_LENGTH + 1),
      'ＡＢ',
    ]) {
      expect(isValidTenantId(id), JSON.stringify(id)).toBe(false);
      expect(() => assertTenantId(id)).toThrow(expect.objectContaining({ code: 'TENANT_ID_INVALID' }));
    }
  });

  test('the id → directory mapping is injective, even after case folding', () => {
    fc.assert(
      fc.property(validId, validId, (a, b) => {
        fc.pre(a !== b);
        expect(tenantDirName(a)).not.toBe(tenantDirName(b));
        expect(tenantDirName(a).toLowerCase()).not.toBe(tenantDirName(b).toLowerCase());
      }),
      { numRuns: 5_000 },
    );
    // The reference implementation's lossy sanitiser merged these; ours keeps them apart.
    const tricky = ['a.b', 'a_b', 'A_b', 'a__b', 'ab', 'AB', 'Ab', 'a_B'];
    expect(new Set(tricky.map(tenantDirName)).size).toBe(tricky.length);
  });

  test('directory names are lowercase ASCII single segments that round-trip and never escape', () => {
    fc.assert(
      fc.property(validId, (id) => {
        const dir = tenantDirName(id);
        expect(dir).toMatch(/^[a-z0-9._-]+$/);
        expect(dir).not.toBe('.');
        expect(dir).not.toBe('..');
        expect(dir.length).toBeLessThanOrEqual(2 * MAX_TENANT_ID_LENGTH);
        expect(tenantIdFromDirName(dir)).toBe(id);
        const root = resolve('/srv/tenants');
        expect(resolve(root, dir).startsWith(root + sep)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  test('names the mapping cannot produce do not decode', () => {
    for (const name of ['A', '_', '_1', 'a_', 'Ab', '.x', '']) expect(tenantIdFromDirName(name)).toBeUndefined();
  });
});
