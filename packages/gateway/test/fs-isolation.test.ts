import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { TenantManager } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway, createGateway, GatewayRequestError } from '@openclaw-mt/gateway';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayRequestError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('isolation over the wire on the filesystem adapter', () => {
  test('symlinks planted in a workspace (to another tenant, or outside) are refused for reads and writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-gw-fs-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const adapter = createFsAdapter({ dataDir: join(dir, 'data') });
    const manager = new TenantManager({ ...adapter, idleTimeoutMs: 0 });
    const gateway = createGateway({ manager, port: 0, drainTimeoutMs: 100 });
    const { url } = await gateway.listen();
    cleanups.push(() => gateway.close());

    const victim = await manager.acquire('victim');
    await victim.workspace.write('workspace/secret.md', 'victim data');
    victim.release();
    const outside = join(dir, 'outside.txt');
    await writeFile(outside, 'host file');

    const { token } = await manager.tokens.create('mallory');
    const connection = await connectGateway({ url, token });
    const malloryRoot = join(adapter.workspaces.root, tenantDirName('mallory'), 'workspace');
    const victimFile = join(adapter.workspaces.root, tenantDirName('victim'), 'workspace', 'secret.md');
    await symlink(victimFile, join(malloryRoot, 'stolen.md'));
    await symlink(outside, join(malloryRoot, 'host.md'));
    await symlink(join(adapter.workspaces.root, tenantDirName('victim')), join(malloryRoot, 'victim-root'));

    for (const name of ['stolen.md', 'host.md', 'victim-root/workspace/secret.md']) {
      expect(await codeOf(connection.request('workspace.read', { name })), `read ${name}`).toBe('PATH_ESCAPE');
      expect(await codeOf(connection.request('workspace.write', { name, content: 'overwritten' })), `write ${name}`).toBe('PATH_ESCAPE');
    }
    expect(await readFile(victimFile, 'utf8')).toBe('victim data');
    expect(await readFile(outside, 'utf8')).toBe('host file');
    // Listings never follow links either.
    const listed = await connection.request<{ files: Array<{ name: string }> }>('workspace.list');
    expect(listed.files.map((file) => file.name)).not.toEqual(expect.arrayContaining(['stolen.md']));
    connection.close();
  });
});
