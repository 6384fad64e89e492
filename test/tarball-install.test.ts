import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { publicPackages, root } from '../scripts/workspace-packages.mjs';
import { exec, start, type Running } from './support/processes.js';

// The packages as npm would ship them: each public workspace package packed, the tarballs installed
// into an empty project (third-party dependencies from the registry or the npm cache), then used the
// way a user does — the CLI through npx, and the libraries from TypeScript.
const packages = publicPackages();
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const work = mkdtempSync(join(tmpdir(), 'openclaw-mt-tarballs-'));
const project = join(work, 'project');
const env = { ...process.env, NO_COLOR: '1', OPENCLAW_MT_CONFIG: '', npm_config_audit: 'false', npm_config_fund: 'false' };
const running: Running[] = [];
/** The files in each package's tarball, by package name. */
const shipped = new Map<string, string[]>();

beforeAll(async () => {
  const tarballs: string[] = [];
  for (const pkg of packages) {
    const packed = await exec('npm', ['pack', '--json', '--pack-destination', work], { cwd: pkg.dir, env });
    expect(packed.code, packed.stderr).toBe(0);
    const [tarball] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarballs.push(join(work, tarball!.filename));
    shipped.set(
      pkg.name,
      tarball!.files.map((file) => file.path),
    );
  }
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tarball-consumer', private: true, type: 'module' }));
  const toolchain = ['typescript', '@types/node'].map((name) => `${name}@${rootManifest.devDependencies[name]}`);
  const installed = await exec('npm', ['install', '--prefer-offline', ...tarballs, ...toolchain], {
    cwd: project,
    env,
    timeoutMs: 240_000,
  });
  expect(installed.code, installed.stderr + installed.stdout).toBe(0);
}, 300_000);

afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()));
  rmSync(work, { recursive: true, force: true });
});

describe('installed from the packed tarballs', () => {
  test('every package ships its LICENSE and no sources or tests', () => {
    for (const pkg of packages) {
      const dir = join(project, 'node_modules', ...pkg.name.split('/'));
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
      const names = shipped.get(pkg.name)!;
      expect(names).toContain('package.json');
      expect(
        names.filter((name) => /^(src|test)\//.test(name) || name.endsWith('.test.js')),
        pkg.name,
      ).toEqual([]);
    }
  });

  test('npx openclaw-mt --help and --version answer', async () => {
    const help = await exec('npx', ['--no', '--', 'openclaw-mt', '--help'], { cwd: project, env });
    expect(help.code, help.stderr).toBe(0);
    for (const command of ['serve', 'connect', 'tokens', 'users', 'doctor']) expect(help.stdout).toContain(command);
    const version = await exec('npx', ['--no', '--', 'openclaw-mt', '--version'], { cwd: project, env });
    expect(version.stdout.trim()).toBe(packages.find((pkg) => pkg.name === 'openclaw-mt')!.version);
  });

  test('serve listens; a token it issues gets an answer over the OpenClaw protocol', async () => {
    const server = start('npx', ['--no', '--', 'openclaw-mt', 'serve', '--port', '0', '--admin-port', '0'], { cwd: project, env });
    running.push(server);
    const [, url] = await server.waitFor(/listening on (ws:\/\/\S+)/, 60_000);
    const created = await exec('npx', ['--no', '--', 'openclaw-mt', 'tokens', 'create', 'alice', '--json'], { cwd: project, env });
    expect(created.code, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const answer = await exec('npx', ['--no', '--', 'openclaw-mt', 'connect', '--url', url!, '--gateway-token', token, '--message', 'hi'], {
      cwd: project,
      env,
    });
    expect(answer).toMatchObject({ code: 0, stdout: 'You said: hi\n' });
    await server.stop();
  }, 120_000);

  // Every export of every public package, and one host composing them: the gateway must accept core's
  // TenantManager (one core for the host, not a second copy with an incompatible type).
  const consumer = [
    ...packages.flatMap((pkg, index) =>
      Object.keys(pkg.manifest.exports ?? { '.': {} })
        .filter((subpath) => subpath !== './package.json')
        .map(
          (subpath, n) =>
            `import * as module${index}x${n} from '${pkg.name}${subpath.slice(1)}';\nconsole.log(Object.keys(module${index}x${n}).length);`,
        ),
    ),
    "import { TenantManager, createMemoryAdapter } from '@openclaw-mt/core';",
    "import { createFsAdapter } from '@openclaw-mt/adapter-fs';",
    "import { type GatewayOptions, createWorkspaceRuntime } from '@openclaw-mt/gateway';",
    'const manager = new TenantManager({ ...createMemoryAdapter(), capacity: 1 });',
    'const options: GatewayOptions = { manager, runtime: createWorkspaceRuntime() };',
    'const onDisk: ReturnType<typeof createFsAdapter> | undefined = undefined;',
    'console.log(options.manager === manager, onDisk);',
    'await manager.close();',
    '',
  ].join('\n');

  test.each([
    ['NodeNext', { module: 'NodeNext', moduleResolution: 'NodeNext' }],
    ['Bundler', { module: 'ESNext', moduleResolution: 'Bundler' }],
  ])(
    'TypeScript resolves and checks every export under %s resolution (declarations included)',
    async (name, resolution) => {
      const dir = join(project, `check-${name}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'consumer.ts'), consumer);
      const compilerOptions = { ...resolution, target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      const checked = await exec(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
        cwd: dir,
        env,
      });
      expect(checked.stdout + checked.stderr).toBe('');
      expect(checked.code).toBe(0);
    },
    180_000,
  );

  test('the compiled consumer runs against the installed packages', async () => {
    const dir = join(project, 'run');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'consumer.mjs'),
      consumer
        .replace(/^import \{ type GatewayOptions, /m, 'import { ')
        .replace(/: GatewayOptions|: ReturnType<typeof createFsAdapter> \| undefined/g, ''),
    );
    const ran = await exec(process.execPath, [join(dir, 'consumer.mjs')], { cwd: dir, env });
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('true');
  });
});
