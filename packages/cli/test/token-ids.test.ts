import { join } from 'node:path';
import { createFsTokenStore } from '@openclaw-mt/adapter-fs';
import { describe, expect, it } from 'vitest';
import { run, tempDir } from './support/cli-process.js';

const listed = async (cwd: string) =>
  JSON.parse((await run(['tokens', 'list', 'alice', '--json'], { cwd })).stdout).tokens as { tokenHash: string; status: string }[];

describe('token ids', () => {
  it('revoke accepts the id tokens list shows and any unambiguous prefix', async () => {
    const cwd = await tempDir();
    await run(['tokens', 'create', 'alice'], { cwd });
    await run(['tokens', 'create', 'alice'], { cwd });
    const shown = (await run(['tokens', 'list', 'alice'], { cwd })).stdout.split('\n')[0]!.split(/\s+/)[0]!;
    expect(shown).toMatch(/^[0-9a-f]{16}…$/);
    const byShownId = await run(['tokens', 'revoke', shown], { cwd });
    expect(byShownId.code).toBe(0);
    const [first, second] = await listed(cwd);
    expect(first!.tokenHash.startsWith(shown.slice(0, 16)) ? first!.status : second!.status).toBe('revoked');

    const other = [first, second].find((record) => record!.status === 'active')!;
    expect((await run(['tokens', 'rotate', other.tokenHash.slice(0, 8).toUpperCase()], { cwd })).code).toBe(0);
  });

  it('an ambiguous prefix is a coded error listing the matching ids and changes nothing', async () => {
    const cwd = await tempDir();
    await run(['tokens', 'create', 'alice'], { cwd });
    const [original] = await listed(cwd);
    // A second record sharing the first 20 digits, written straight into the store the CLI uses.
    const store = createFsTokenStore({ root: join(cwd, '.openclaw-mt', 'tokens') });
    // The twin's 21st digit differs from the original's, so 21 digits name the twin alone.
    const tail = original!.tokenHash[20] === '0' ? '1' : '0';
    const twin = `${original!.tokenHash.slice(0, 20)}${tail.repeat(44)}`;
    await store.create!({ tokenHash: twin, tenantId: 'alice', status: 'active', createdAt: Date.now() });
    await store.close?.();

    const ambiguous = await run(['tokens', 'revoke', original!.tokenHash.slice(0, 6)], { cwd });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('BAD_REQUEST');
    // The shown ids are alike here, so the whole hashes are listed.
    expect(ambiguous.stderr).toContain(original!.tokenHash);
    expect(ambiguous.stderr).toContain(twin);
    expect((await listed(cwd)).every((record) => record.status === 'active')).toBe(true);

    expect((await run(['tokens', 'revoke', twin.slice(0, 21)], { cwd })).code).toBe(0);
    expect((await run(['tokens', 'revoke', 'abcd'], { cwd })).code).toBe(3);
  });
});
