import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway } from '@openclaw-mt/gateway';
import { run, serve, tempDir } from './support/cli-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dropPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: 'redis://127.0.0.1:6379' });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
  await client.close();
}

describe('the CLI on the Redis adapter', () => {
  test('gateway processes on one Redis share tokens made by the CLI, users list sees them; a revocation through the CLI closes the socket on the node holding it', async () => {
    const prefix = `ocmt-cli-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => dropPrefix(prefix));
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ multiTenant: { adapter: 'redis', redis: { url: 'redis://127.0.0.1:6379', prefix }, dataDir: join(cwd, 'data') } }),
    );
    const nodeA = await serve(['--config', config], { cwd });
    cleanups.push(() => void nodeA.child.kill('SIGKILL'));
    const nodeB = await serve(['--config', config], { cwd });
    cleanups.push(() => void nodeB.child.kill('SIGKILL'));
    expect(nodeA.output()).toContain('redis with prefix');
    const created = await run(['tokens', 'create', 'alice', '--json', '--config', config], { cwd });
    expect(created.code).toBe(0);
    const { token } = JSON.parse(created.stdout);
    // A user who has only a token (no config, no workspace yet) is a stored tenant on Redis too.
    const listed = await run(['users', 'list', '--json', '--config', config], { cwd });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).tenants).toContainEqual(
      expect.objectContaining({ tenantId: 'alice', workspace: false, configVersion: 0 }),
    );
    const onA = await connectGateway({ url: nodeA.url, token });
    expect(await onA.request('chat.send', { message: 'from A' })).toMatchObject({ reply: 'You said: from A' });
    onA.close();
    await onA.closed;
    // The tenant is idle on A; B takes it over once A's lease is given back.
    const bob = JSON.parse((await run(['tokens', 'create', 'bob', '--json', '--config', config], { cwd })).stdout).token as string;
    const onB = await connectGateway({ url: nodeB.url, token: bob });
    expect((await run(['tokens', 'revoke', bob, '--config', config], { cwd })).code).toBe(0);
    expect((await onB.closed).code).toBe(1008);
  });
});
