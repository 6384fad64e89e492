import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { run, serve, tempDir } from './support/cli-process.js';
import { adminFetch, dropRedisPrefix, until } from './support/operations.js';

/** A tenant as the admin endpoint's `GET /v1/tenants` reports it. */
interface LiveTenantRow {
  tenantId: string;
  active: boolean;
  connections: number;
  pins: number;
}

/** A stored tenant as `users list --json` reports it. */
interface ListedTenant {
  tenantId: string;
  active?: boolean;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A gateway on the embedded default (fs under <cwd>/.openclaw-mt) and tokens for some users. */
async function gatewayWithUsers(users: string[]) {
  const cwd = await tempDir();
  const server = await serve([], { cwd });
  cleanups.push(() => void server.child.kill('SIGKILL'));
  const tokens: Record<string, string> = {};
  for (const user of users) tokens[user] = JSON.parse((await run(['tokens', 'create', user, '--json'], { cwd })).stdout).token;
  const dataDir = join(cwd, '.openclaw-mt');
  const cli = (args: string[]) => run([...args, '--admin-url', server.adminUrl!], { cwd });
  const admin = (path: string, init?: { method?: string; body?: unknown }) => adminFetch(server.adminUrl!, dataDir, path, init);
  const connect = async (user: string): Promise<GatewayConnection> => {
    const connection = await connectGateway({ url: server.url, token: tokens[user]! });
    cleanups.push(() => connection.close());
    await connection.request('chat.send', { message: 'hi' });
    return connection;
  };
  return { cwd, server, tokens, cli, admin, connect };
}

describe('users, against a running gateway and its stores', () => {
  test('users list shows every stored tenant and exactly the tenants the gateway has active', async () => {
    const { cli, admin, connect } = await gatewayWithUsers(['alice', 'bob', 'carol', 'dave']);
    await connect('alice');
    await connect('bob');
    const carol = await connect('carol');
    carol.close();
    await carol.closed;

    const live = (await admin('/v1/tenants')).json<{ tenants: LiveTenantRow[] }>().tenants;
    expect(live.map((tenant) => tenant.tenantId).sort()).toEqual(['alice', 'bob', 'carol']);
    const listed = await cli(['users', 'list', '--json']);
    expect(listed.code).toBe(0);
    const { tenants, gateway } = JSON.parse(listed.stdout) as { tenants: ListedTenant[]; gateway: unknown };
    expect(gateway).toMatchObject({ reachable: true });
    // Stored: every user with a token (dave never connected, so only his token exists).
    expect(tenants.map((tenant) => tenant.tenantId)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(tenants.filter((tenant) => tenant.active).map((tenant) => tenant.tenantId)).toEqual(
      live.map((tenant) => tenant.tenantId).sort(),
    );
    const byId = Object.fromEntries(tenants.map((tenant) => [tenant.tenantId, tenant]));
    for (const tenant of live)
      expect(byId[tenant.tenantId]).toMatchObject({ active: true, connections: tenant.connections, pins: tenant.pins });
    expect(byId.alice).toMatchObject({ status: 'active', workspace: true, connections: 1 });
    expect(byId.carol).toMatchObject({ connections: 0 });
    expect(byId.dave).toMatchObject({ active: false, workspace: false, configVersion: 0 });

    const human = await cli(['users', 'list']);
    expect(human.stdout).toMatch(/alice\s+active\s+0\s+yes\s+active, 1 connection/);
    expect(human.stdout).toContain('3 active');
  });

  test('without a reachable gateway, users list still shows the stored tenants (exit 0); --live requires it (exit 4)', async () => {
    const cwd = await tempDir();
    await run(['tokens', 'create', 'erin'], { cwd });
    const unreachable = ['--admin-url', 'http://127.0.0.1:1'];
    const listed = await run(['users', 'list', '--json', ...unreachable], { cwd });
    expect(listed.code).toBe(0);
    const parsed = JSON.parse(listed.stdout);
    expect(parsed.tenants).toEqual([{ tenantId: 'erin', status: 'active', configVersion: 0, workspace: false }]);
    expect(parsed.gateway).toMatchObject({ reachable: false, error: { code: 'BACKEND_UNAVAILABLE' } });
    expect((await run(['users', 'list', ...unreachable], { cwd })).stdout).toContain('gateway not reachable');
    const live = await run(['users', 'list', '--live', ...unreachable], { cwd });
    expect(live.code).toBe(4);
    expect(live.stderr).toContain('BACKEND_UNAVAILABLE');
  });

  test('users evict really evicts; a busy tenant needs --force, and its client sees close 1012', async () => {
    const { cli, admin, connect } = await gatewayWithUsers(['alice', 'bob']);
    const alice = await connect('alice');
    const bob = await connect('bob');
    bob.close();
    await bob.closed;
    await until(async () => (await admin('/v1/tenants/bob')).json<LiveTenantRow>().pins === 0);

    const idle = await cli(['users', 'evict', 'bob', '--json']);
    expect(idle.code).toBe(0);
    expect(JSON.parse(idle.stdout)).toEqual({ tenantId: 'bob', evicted: true });
    expect((await admin('/v1/tenants/bob')).json()).toEqual({ tenantId: 'bob', active: false });
    expect((await cli(['users', 'evict', 'bob'])).stdout).toContain('was not active');

    const busy = await cli(['users', 'evict', 'alice']);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain('TENANT_BUSY');
    expect((await admin('/v1/tenants/alice')).json()).toMatchObject({ tenantId: 'alice', pins: 1 });

    const forced = await cli(['users', 'evict', 'alice', '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ tenantId: 'alice', evicted: true });
    expect((await alice.closed).code).toBe(1012);
    expect((await admin('/v1/tenants/alice')).json()).toEqual({ tenantId: 'alice', active: false });
  });

  test('users cleanup evicts the idle tenants, reports how many, and leaves the busy ones', async () => {
    const { cli, admin, connect } = await gatewayWithUsers(['alice', 'bob', 'carol', 'dave']);
    const alice = await connect('alice');
    for (const user of ['bob', 'carol', 'dave']) {
      const connection = await connect(user);
      connection.close();
      await connection.closed;
    }
    await until(
      async () =>
        (await admin('/v1/tenants')).json<{ tenants: LiveTenantRow[] }>().tenants.filter((tenant) => tenant.pins === 0).length === 3,
    );
    const cleaned = await cli(['users', 'cleanup', '--json']);
    expect(cleaned.code).toBe(0);
    expect(JSON.parse(cleaned.stdout)).toEqual({ evicted: 3 });
    expect((await admin('/v1/tenants')).json<{ tenants: LiveTenantRow[] }>().tenants.map((tenant) => tenant.tenantId)).toEqual(['alice']);
    expect((await cli(['users', 'cleanup'])).stdout).toContain('Evicted 0 idle tenants.');
    expect(await Promise.race([alice.closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('open'), 200))])).toBe(
      'open',
    );
  });

  test('users info combines stored and live state; unknown tenants exit 3', async () => {
    const { cli, connect } = await gatewayWithUsers(['alice']);
    await connect('alice');
    expect((await cli(['config', 'set', 'alice', '{"model":"m1"}'])).code).toBe(0);
    const info = await cli(['users', 'info', 'alice', '--json']);
    expect(info.code).toBe(0);
    const parsed = JSON.parse(info.stdout);
    expect(parsed).toMatchObject({
      tenantId: 'alice',
      config: { status: 'active', config: { model: 'm1' }, version: 1 },
      tokens: { total: 1, active: 1 },
      workspace: { exists: true },
      live: { active: true, connections: 1 },
    });
    expect(parsed.workspace.files).toBeGreaterThan(0);
    expect(parsed.workspace.bytes).toBeGreaterThan(0);
    const unknown = await cli(['users', 'info', 'nobody']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('TENANT_UNKNOWN');
    expect((await cli(['users', 'info', '../etc'])).code).toBe(2);
  });

  test('users suspend reaches the running gateway through the store (close 1008, connects refused); resume lifts it', async () => {
    const { cli, server, tokens, connect } = await gatewayWithUsers(['alice']);
    const alice = await connect('alice');
    const suspended = await cli(['users', 'suspend', 'alice', '--json']);
    expect(suspended.code).toBe(0);
    expect(JSON.parse(suspended.stdout)).toMatchObject({ tenantId: 'alice', status: 'suspended' });
    expect((await alice.closed).code).toBe(1008);
    const refused = await connectGateway({ url: server.url, token: tokens.alice! }).catch((error) => error);
    expect(refused.code).toBe('TENANT_SUSPENDED');
    expect((await cli(['users', 'resume', 'alice'])).code).toBe(0);
    const again = await until(() => connectGateway({ url: server.url, token: tokens.alice! }).catch(() => undefined));
    again.close();
    const listed = JSON.parse((await cli(['users', 'list', '--json'])).stdout);
    expect(listed.tenants[0]).toMatchObject({ tenantId: 'alice', status: 'active', configVersion: 2 });
  });

  test('on Redis, reading a tenant the gateway on this host has active leaves its working copy alone', async () => {
    const prefix = `ocmt-users-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => dropRedisPrefix(prefix));
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ multiTenant: { adapter: 'redis', redis: { url: 'redis://127.0.0.1:6379', prefix }, dataDir: join(cwd, 'data') } }),
    );
    const server = await serve(['--config', config], { cwd });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    const cli = (args: string[]) => run([...args, '--config', config, '--admin-url', server.adminUrl!], { cwd });
    const token = JSON.parse((await run(['tokens', 'create', 'alice', '--json', '--config', config], { cwd })).stdout).token;
    const alice = await connectGateway({ url: server.url, token });
    cleanups.push(() => alice.close());
    await alice.request('workspace.write', { name: 'memory/today.md', content: 'hello from alice' });

    const info = JSON.parse((await cli(['users', 'info', 'alice', '--json'])).stdout);
    expect(info).toMatchObject({ tenantId: 'alice', workspace: { exists: true }, live: { active: true, connections: 1 } });
    const archive = join(cwd, 'alice.gz');
    expect((await run(['users', 'export', 'alice', '--out', archive, '--config', config], { cwd })).code).toBe(0);
    const files = JSON.parse(gunzipSync(await readFile(archive)).toString()).workspace.files.map((file: { name: string }) => file.name);
    expect(files).toContain('workspace/memory/today.md');
    // The gateway's copy is intact: reads and writes still work.
    expect(await alice.request('workspace.read', { name: 'memory/today.md' })).toMatchObject({ content: 'hello from alice' });
    await alice.request('workspace.write', { name: 'memory/today.md', content: 'still here' });
    const listed = JSON.parse((await cli(['users', 'list', '--json'])).stdout);
    expect(listed.tenants).toEqual([expect.objectContaining({ tenantId: 'alice', workspace: true, active: true, connections: 1 })]);
  });
});
