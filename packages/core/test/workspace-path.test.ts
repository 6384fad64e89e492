import { resolve, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { assertWorkspacePath, isValidWorkspacePath } from '@openclaw-mt/core/contracts';
import { HOSTILE_NAMES } from '@openclaw-mt/core/testing';

describe('workspace file names', () => {
  test('ordinary OpenClaw names are accepted unchanged', () => {
    for (const name of [
      'workspace/AGENTS.md',
      'workspace/memory/2026-11-27.md',
      'workspace/skills/web-search/SKILL.md',
      'sessions/main.jsonl',
      'agent/auth-profiles.json',
    ]) {
      expect(assertWorkspacePath(name)).toBe(name);
    }
  });

  test('hostile names are refused with PATH_INVALID', () => {
    for (const name of HOSTILE_NAMES) {
      expect(() => assertWorkspacePath(name), JSON.stringify(name)).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
    }
  });

  test('any accepted name, resolved under a root, stays strictly inside it', () => {
    const root = resolve('/srv/tenant-root');
    const segment = fc.oneof(
      fc.string(),
      fc.constantFrom('..', '.', '', '%2e%2e', '\0', '\\', '/', 'C:', '.x'),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (parts) => {
        const name = parts.join('/');
        if (!isValidWorkspacePath(name)) return;
        const target = resolve(root, name);
        expect(target.startsWith(root + sep)).toBe(true);
        expect(target.slice(root.length + 1)).toBe(name);
      }),
      { numRuns: 10_000 },
    );
  });
});
