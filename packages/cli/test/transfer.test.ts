import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import type { AuditEntry } from '@openclaw-mt/core';
import { connectGateway } from '@openclaw-mt/gateway';
import { run, serve, tempDir } from './support/cli-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Everything under a directory, with contents (to prove nothing was written). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) out[join(entry.parentPath, entry.name)] = await readFile(join(entry.parentPath, entry.name), 'base64');
  }
  return out;
}

describe('users export / import', () => {
  test('an exported tenant imports into other stores: workspace, config and token all arrive, and the token connects', async () => {
    const source = await tempDir();
    const server = await serve([], { cwd: source });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    const token = JSON.parse((await run(['tokens', 'create', 'alice', '--json'], { cwd: source })).stdout).token as string;
    await run(['config', 'set', 'alice', '{"model":"m2"}'], { cwd: source });
    const connection = await connectGateway({ url: server.url, token });
    await connection.request('chat.send', { message: 'remember me' });
    connection.close();

    const archive = join(source, 'alice.tgz');
    const exported = await run(['users', 'export', 'alice', '--out', archive, '--json'], { cwd: source });
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ tenantId: 'alice', out: archive, config: true, tokens: 1 });
    expect((await readFile(archive)).toString('latin1')).not.toContain(token);

    const target = await tempDir();
    const imported = await run(['users', 'import', archive, '--json'], { cwd: target });
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ tenantId: 'alice', replaced: false, config: 'written', tokens: { created: 1 } });
    expect(JSON.parse((await run(['config', 'get', 'alice', '--json'], { cwd: target })).stdout)).toMatchObject({
      config: { model: 'm2' },
      version: 1,
    });
    const there = await serve([], { cwd: target });
    cleanups.push(() => void there.child.kill('SIGKILL'));
    const again = await connectGateway({ url: there.url, token });
    cleanups.push(() => again.close());
    expect(again.hello.snapshot).toMatchObject({ tenantId: 'alice' });

    // The same tenant again: refused without --replace (exit 2), accepted with it.
    const refused = await run(['users', 'import', archive], { cwd: target });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--replace');
    const replaced = await run(['users', 'import', archive, '--replace', '--json'], { cwd: target });
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ replaced: true, changed: false });
    const audit = JSON.parse((await run(['audit', '--json'], { cwd: target })).stdout).entries.map(
      (entry: AuditEntry) => `${entry.action}:${entry.result}`,
    );
    expect(audit).toEqual(['tenant.import:ok', 'tenant.import:error', 'tenant.import:ok']);
  });

  test('bad archives are refused with a coded error (exit 2) and nothing is written', async () => {
    const source = await tempDir();
    await run(['tokens', 'create', 'bob'], { cwd: source });
    await run(['config', 'set', 'bob', '{"a":1}'], { cwd: source });
    const good = join(source, 'bob.tenant.json.gz');
    expect((await run(['users', 'export', 'bob'], { cwd: source })).code).toBe(0);
    const document = JSON.parse((await import('node:zlib')).gunzipSync(await readFile(good)).toString());

    const target = await tempDir();
    await run(['tokens', 'create', 'someone'], { cwd: target });
    const before = await tree(join(target, '.openclaw-mt'));
    const variants: Record<string, Uint8Array | string> = {
      'not-gzip': 'hello',
      truncated: (await readFile(good)).subarray(0, 30),
      'not-json': gzipSync('{"format"'),
      'wrong-version': gzipSync(JSON.stringify({ ...document, version: 99 })),
      'bad-digest': gzipSync(
        JSON.stringify({ ...document, workspace: { files: [{ name: 'workspace/x.md', size: 1, sha256: '0'.repeat(64), data: 'eA==' }] } }),
      ),
      traversal: gzipSync(
        JSON.stringify({
          ...document,
          workspace: {
            files: [{ name: '../x', size: 1, sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', data: 'eA==' }],
          },
        }),
      ),
      'raw-token': gzipSync(JSON.stringify({ ...document, tokens: [{ ...document.tokens[0], token: 'gt_x' }] })),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const file = join(target, `${name}.gz`);
      await writeFile(file, bytes);
      const result = await run(['users', 'import', file, '--json'], { cwd: target });
      expect(result.code, name).toBe(2);
      expect(JSON.parse(result.stderr).error.code, name).toBe('BAD_REQUEST');
      expect(result.stdout).toBe('');
    }
    expect((await run(['users', 'import', join(target, 'missing.gz')], { cwd: target })).code).toBe(3);
    expect(await tree(join(target, '.openclaw-mt'))).toEqual(before);
  });
});
