import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { root } from '../scripts/workspace-packages.mjs';
import { exec, start, type Running } from './support/processes.js';

// A fresh clone on a machine without a C compiler: the README's `npm install && npm start`, with a
// PATH holding only node, npm, npx and sh — no cc, gcc, g++, make or python — so any native build
// fails the install. The npm cache is reused; nothing is downloaded but npm registry packages.
const work = mkdtempSync(join(tmpdir(), 'openclaw-mt-clone-'));
const clone = join(work, 'clone');
const tools = join(work, 'bin');
let server: Running | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The path of `name` on the current PATH. */
function which(name: string): string {
  const found = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, name))
    .find(existsSync);
  if (found === undefined) throw new Error(`${name} is not on the PATH`);
  return found;
}

/** The environment of a user's shell: no compiler on PATH, no variables of the npm or test run around this one. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|VITEST|NODE_ENV$|TEST$|INIT_CWD$|CC$|CXX$|OPENCLAW_MT_CONFIG$)/.test(key)) env[key] = value;
  }
  return { ...env, PATH: tools, NO_COLOR: '1' };
}

test('a fresh clone installs without a compiler and npm start serves', async () => {
  // The tracked and new files of this checkout, as a clone would have them.
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  for (const file of listed.split('\0').filter((name) => name !== '' && existsSync(join(root, name)))) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(root, file), join(clone, file));
  }
  mkdirSync(tools);
  symlinkSync(process.execPath, join(tools, 'node'));
  for (const name of ['npm', 'npx', 'sh']) symlinkSync(which(name), join(tools, name));
  const env = userEnvironment();
  for (const compiler of ['cc', 'gcc', 'g++', 'c++', 'make', 'python3']) {
    expect((await exec(join(tools, 'sh'), ['-c', `command -v ${compiler}`], { cwd: work, env })).code, compiler).not.toBe(0);
  }

  let began = performance.now();
  const installed = await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, env, timeoutMs: 400_000 });
  expect(installed.code, installed.stderr + installed.stdout).toBe(0);
  expect(installed.stderr).not.toMatch(/gyp|prebuild-install/);
  const installSeconds = (performance.now() - began) / 1000;
  // Whatever npm's policy on install scripts, no installed package may need one (a native build or a
  // binary download), except those the root package.json denies on purpose after review.
  const scripted = await exec(
    'npm',
    ['query', ':is(:attr(scripts, [install]), :attr(scripts, [preinstall]), :attr(scripts, [postinstall]))'],
    {
      cwd: clone,
      env,
    },
  );
  const denied = Object.entries(
    (JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {},
  );
  const withScripts = (JSON.parse(scripted.stdout) as Array<{ name: string }>).map((pkg) => pkg.name);
  expect(withScripts.filter((name) => !denied.some(([deniedName, allowed]) => deniedName === name && allowed === false))).toEqual([]);

  began = performance.now();
  server = start('npm', ['start', '--', '--port', '0', '--admin-port', '0'], { cwd: clone, env });
  const [, url] = await server.waitFor(/listening on (ws:\/\/\S+)/, 180_000);
  const startSeconds = (performance.now() - began) / 1000;
  expect(server.output()).toMatch(/Built in [\d.]+ s\./);

  const cli = join(clone, 'packages', 'cli', 'bin', 'openclaw-mt.js');
  const created = await exec(process.execPath, [cli, 'tokens', 'create', 'alice', '--json'], { cwd: clone, env });
  expect(created.code, created.stderr).toBe(0);
  const { token } = JSON.parse(created.stdout) as { token: string };
  const answer = await exec(process.execPath, [cli, 'connect', '--url', url!, '--gateway-token', token, '--message', 'hi'], {
    cwd: clone,
    env,
  });
  expect(answer).toMatchObject({ code: 0, stdout: 'You said: hi\n' });
  console.log(
    `fresh clone on Node ${process.versions.node}: npm install ${installSeconds.toFixed(1)} s, npm start to listening ${startSeconds.toFixed(1)} s`,
  );
}, 600_000);
