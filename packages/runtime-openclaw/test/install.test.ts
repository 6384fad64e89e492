import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isMultiTenantError } from '@openclaw-mt/core';
import {
  defaultRuntimeDir,
  installOpenClawRuntime,
  nodePackageName,
  resolveOpenClawInstall,
  RUNTIME_DIR_ENV,
} from '@openclaw-mt/runtime-openclaw';
import { createFakeInstall } from './support/harness.js';

const FAKE_NPM = fileURLToPath(new URL('./support/fake-npm-cli.mjs', import.meta.url));
const LOCK = '.openclaw-mt-install.lock';

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('openclaw runtime install', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('tells the operator to run `openclaw-mt runtime install` when nothing is installed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-empty-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const error = caught(() => resolveOpenClawInstall(dir));
    expect(isMultiTenantError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('openclaw-mt runtime install');
    expect((error as { details: Record<string, unknown> }).details).toEqual({ reason: 'runtime-not-installed', dir });
  });

  it('finds the Node binary and the openclaw entry, and refuses a Node older than 24.16', async () => {
    const fake = await createFakeInstall();
    cleanups.push(fake.cleanup);
    const install = resolveOpenClawInstall(fake.dir);
    expect(install).toMatchObject({ dir: fake.dir, openclawVersion: '2026.9.6-fake', nodeVersion: '24.99.0' });
    expect(install.nodePath).toBe(join(fake.dir, 'node_modules', nodePackageName(), 'bin', 'node'));
    expect(install.entryPath).toBe(join(fake.dir, 'node_modules', 'openclaw', 'openclaw.mjs'));
    await writeFile(join(fake.dir, 'node_modules', nodePackageName(), 'package.json'), JSON.stringify({ version: '22.3.0' }));
    expect((caught(() => resolveOpenClawInstall(fake.dir)) as Error).message).toContain('older than 24.16.0');
  });

  it('is idempotent: a matching marker means nothing to install', async () => {
    const fake = await createFakeInstall();
    cleanups.push(fake.cleanup);
    await writeFile(join(fake.dir, '.openclaw-mt-runtime.json'), JSON.stringify({ openclaw: '2026.9.6-fake', node: '24.99.0' }));
    const result = await installOpenClawRuntime({
      dir: fake.dir,
      openclawVersion: '2026.9.6-fake',
      nodeVersion: '24.99.0',
      npmCli: '/nonexistent/npm-cli.js',
    });
    expect(result).toMatchObject({ installed: false, dir: fake.dir, openclawVersion: '2026.9.6-fake' });
  });

  it('two installs into one directory take turns: npm never runs twice at once, and the second finds the work done', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-install-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const lines: string[] = [];
    const options = {
      dir,
      openclawVersion: '2026.9.6-fake',
      nodeVersion: '24.99.0',
      npmCli: FAKE_NPM,
      onProgress: (line: string) => lines.push(line),
    };
    const results = await Promise.all([installOpenClawRuntime(options), installOpenClawRuntime(options)]);
    expect(results.map((result) => result.installed).sort()).toEqual([false, true]);
    expect(resolveOpenClawInstall(dir)).toMatchObject({ openclawVersion: '2026.9.6-fake', nodeVersion: '24.99.0' });
    // One install ran npm twice (Node, then openclaw with it); the other waited and ran nothing.
    const runs = (await readFile(join(dir, 'fake-npm.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[0]);
    expect(runs).toEqual(['start', 'end', 'start', 'end']);
    expect(lines.some((line) => line.startsWith('waiting for another install'))).toBe(true);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('breaks a lock left by an install that died', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-install-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // 2^22 + 1 is above the largest pid Linux assigns: its holder on this host is certainly gone.
    await writeFile(join(dir, LOCK), JSON.stringify({ pid: 4_194_305, host: hostname(), instance: 'gone', nonce: 'n1', at: Date.now() }));
    const result = await installOpenClawRuntime({
      dir,
      openclawVersion: '2026.9.6-fake',
      nodeVersion: '24.99.0',
      npmCli: FAKE_NPM,
      timeoutMs: 30_000,
    });
    expect(result.installed).toBe(true);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('refuses versions that are not exact', async () => {
    for (const version of ['latest', '^2026.9.6', '2026.9.6 && rm -rf /', '']) {
      await expect(installOpenClawRuntime({ dir: '/nonexistent', openclawVersion: version })).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
      });
    }
    await expect(installOpenClawRuntime({ dir: '/nonexistent', nodeVersion: '22.12.0' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it(`installs where ${RUNTIME_DIR_ENV} says`, () => {
    const before = process.env[RUNTIME_DIR_ENV];
    try {
      process.env[RUNTIME_DIR_ENV] = '/srv/openclaw-runtime';
      expect(defaultRuntimeDir()).toBe('/srv/openclaw-runtime');
      delete process.env[RUNTIME_DIR_ENV];
      expect(defaultRuntimeDir('2026.9.6')).toMatch(/openclaw-mt\/runtime\/openclaw-2026\.9\.6$/);
    } finally {
      if (before === undefined) delete process.env[RUNTIME_DIR_ENV];
      else process.env[RUNTIME_DIR_ENV] = before;
    }
  });
});
