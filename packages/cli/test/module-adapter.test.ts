import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { createTokenService } from '@openclaw-mt/core/tokens';
import { connectGateway } from '@openclaw-mt/gateway';
import { run, serve, tempDir } from './support/cli-process.js';

/** An adapter outside the repository's packages, loaded by module path: the SQLite example, as built. */
const SQLITE_MODULE = fileURLToPath(new URL('../../../examples/custom-adapter/dist/adapter-module.js', import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const PEPPERS = ['pepper-for-the-module-adapter-test-0123'];
const suffix = randomBytes(3).toString('hex');
const USERS = [`mod-alice-${suffix}`, `mod-bob-${suffix}`];

async function writeConfig(path: string, block: Record<string, unknown>): Promise<void> {
  await writeFile(path, JSON.stringify({ multiTenant: { peppers: PEPPERS, ...block } }), { mode: 0o600 });
}

describe('an adapter named by module', () => {
  test('fs → SQLite module with migrate, then users list, doctor and serve run on it unchanged', async () => {
    const cwd = await tempDir();
    const fromConfig = join(cwd, 'from.json');
    const toConfig = join(cwd, 'to.json');
    await writeConfig(fromConfig, { adapter: 'fs', dataDir: join(cwd, 'fs-data') });
    // A relative filename resolves against the config file's directory.
    await writeConfig(toConfig, {
      adapter: { module: SQLITE_MODULE, options: { filename: './tenants.sqlite' } },
      dataDir: join(cwd, 'sq'),
    });

    const source = createFsAdapter({ dataDir: join(cwd, 'fs-data') });
    const issuer = createTokenService({ store: source.tokens, peppers: PEPPERS });
    const tokens: Record<string, string> = {};
    for (const user of USERS) {
      const handle = await source.workspaces.open(user);
      await handle.write('workspace/memory/notes.md', `notes of ${user}\n`);
      await handle.close();
      await source.configs.set(user, { config: { model: `model-of-${user}` } });
      tokens[user] = (await issuer.create(user)).token;
    }
    await source.close();

    const migrated = await run(['migrate', '--from', fromConfig, '--to', toConfig, '--json'], { cwd });
    expect(migrated.code, migrated.stderr).toBe(0);
    const report = JSON.parse(migrated.stdout);
    expect(report).toMatchObject({ ok: true, total: USERS.length, moved: USERS.length });
    expect(report.to).toContain('sqlite at');

    const listed = await run(['users', 'list', '--config', toConfig, '--json'], { cwd });
    expect(listed.code, listed.stderr).toBe(0);
    const ids = (JSON.parse(listed.stdout).tenants as Array<{ tenantId: string }>).map((tenant) => tenant.tenantId);
    expect(ids.sort()).toEqual([...USERS].sort());

    const doctor = await run(['doctor', '--config', toConfig, '--json'], { cwd });
    const checks = JSON.parse(doctor.stdout).checks as Array<{ id: string; status: string; reason: string }>;
    expect(checks.find((check) => check.id === 'adapter')).toMatchObject({ status: 'pass' });
    expect(
      checks.find((check) => check.id === 'adapter.integrity'),
      JSON.stringify(checks),
    ).toMatchObject({ status: 'pass' });
    expect(checks.find((check) => check.id === 'adapter.permissions')).toBeDefined();

    const server = await serve(['--config', toConfig], { cwd });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    expect(server.output()).toContain('sqlite at');
    const connection = await connectGateway({ url: server.url, token: tokens[USERS[0]!]! });
    cleanups.push(() => connection.close());
    await connection.request('chat.send', { message: 'hi' });
    // The admin endpoint serves from the same adapter: the connected user shows as active.
    const live = await run(['users', 'list', '--config', toConfig, '--admin-url', server.adminUrl!, '--json'], { cwd });
    expect(live.code, live.stderr).toBe(0);
    const rows = JSON.parse(live.stdout) as {
      tenants: Array<{ tenantId: string; active?: boolean; workspace?: boolean }>;
      gateway: unknown;
    };
    expect(rows.gateway).toMatchObject({ reachable: true });
    expect(rows.tenants.find((row) => row.tenantId === USERS[0])).toMatchObject({ active: true, workspace: true });
    expect(rows.tenants.find((row) => row.tenantId === USERS[1])).toMatchObject({ active: false });
  });

  test('a module that is missing or exports no factory is CONFIG_INVALID naming adapter.module, and doctor fails', async () => {
    const cwd = await tempDir();
    const missing = join(cwd, 'missing.json');
    await writeConfig(missing, { adapter: { module: './nowhere.js' }, dataDir: join(cwd, 'data') });
    const users = await run(['users', 'list', '--config', missing, '--json'], { cwd });
    expect(users.code).not.toBe(0);
    expect(users.stdout + users.stderr).toMatch(/CONFIG_INVALID[\s\S]*adapter\.module|adapter\.module[\s\S]*CONFIG_INVALID/);

    await writeFile(join(cwd, 'not-an-adapter.mjs'), 'export default { hello: 1 };\n');
    const wrong = join(cwd, 'wrong.json');
    await writeConfig(wrong, { adapter: { module: './not-an-adapter.mjs' }, dataDir: join(cwd, 'data') });
    const doctor = await run(['doctor', '--config', wrong, '--json'], { cwd });
    expect(doctor.code).not.toBe(0);
    const check = (JSON.parse(doctor.stdout).checks as Array<{ id: string; status: string; reason: string }>).find(
      (entry) => entry.id === 'adapter',
    );
    expect(check).toMatchObject({ status: 'fail' });
    expect(check!.reason).toContain('default export');
  });
});
