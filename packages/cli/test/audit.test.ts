import { describe, expect, test } from 'vitest';
import type { AuditEntry } from '@openclaw-mt/core';
import { run, tempDir } from './support/cli-process.js';

describe('audit', () => {
  test('token create, rotate and revoke through the CLI are recorded with actor, action and result — never the token', async () => {
    const cwd = await tempDir();
    const created = JSON.parse((await run(['tokens', 'create', 'alice', '--label', 'laptop', '--json'], { cwd })).stdout).token as string;
    const rotated = JSON.parse((await run(['tokens', 'rotate', created, '--json'], { cwd })).stdout).token as string;
    expect((await run(['tokens', 'revoke', rotated], { cwd })).code).toBe(0);
    expect((await run(['tokens', 'revoke', `gt_${'A'.repeat(36)}`], { cwd })).code).not.toBe(0);
    await run(['tokens', 'create', 'bob'], { cwd });

    const result = await run(['audit', '--json'], { cwd });
    expect(result.code).toBe(0);
    const { entries } = JSON.parse(result.stdout);
    const text = result.stdout;
    expect(text).not.toContain(created);
    expect(text).not.toContain(rotated);
    expect(text).not.toMatch(/gt_[0-9A-Za-z]{20,}/);
    // Newest first.
    expect(entries.map((entry: AuditEntry) => [entry.action, entry.tenantId, entry.result])).toEqual([
      ['token.create', 'bob', 'ok'],
      ['token.revoke', undefined, 'error'],
      ['token.revoke', 'alice', 'ok'],
      ['token.rotate', 'alice', 'ok'],
      ['token.create', 'alice', 'ok'],
    ]);
    for (const entry of entries) {
      expect(entry.actor).toMatch(/^cli:.+@.+/);
      expect(typeof entry.at).toBe('number');
    }
    expect(entries[1].code).toBeDefined();
    expect(entries[4]).toMatchObject({ target: expect.stringMatching(/^[0-9a-f]{16}…$/), details: { label: 'laptop' } });
    // The revoked token is named by the same hash prefix the rotation reported for its successor.
    expect(entries[2].target).toBe(entries[3].details.successor);

    const alice = JSON.parse((await run(['audit', '--json', '--tenant', 'alice', '--limit', '2'], { cwd })).stdout).entries;
    expect(alice.map((entry: AuditEntry) => entry.action)).toEqual(['token.revoke', 'token.rotate']);
    const human = await run(['audit'], { cwd });
    expect(human.stdout).toMatch(/cli:\S+ {2}token\.create {2}bob/);
    expect((await run(['audit', '--limit', 'many'], { cwd })).code).toBe(2);
  });
});
