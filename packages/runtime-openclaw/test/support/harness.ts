import { chmod, copyFile, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TenantManager, type TenantManagerOptions } from '@openclaw-mt/core';
import { createFsAdapter, type FsAdapter } from '@openclaw-mt/adapter-fs';
import {
  connectGateway,
  createGateway,
  GatewayRequestError,
  type ConnectGatewayOptions,
  type Gateway,
  type GatewayConnection,
  type GatewayOptions,
} from '@openclaw-mt/gateway';
import { createOpenClawRuntime, nodePackageName, type OpenClawRuntime, type OpenClawRuntimeOptions } from '@openclaw-mt/runtime-openclaw';

const FAKE_ENTRY = fileURLToPath(new URL('./fake-openclaw.mjs', import.meta.url));
/** Where a fake install keeps OpenClaw's spawn broker entry, under its directory. */
export const FAKE_SPAWN_BROKER_ENTRY = join('node_modules', 'openclaw', 'dist', 'process', 'spawn-broker', 'worker.js');
/** What that entry holds. */
export const FAKE_SPAWN_BROKER_SOURCE = '// the spawn broker\n';

/**
 * An install directory whose `openclaw` is the fake in `fake-openclaw.mjs`, run by this Node (or `nodePath`). With
 * `selfContained`, the fake and its one dependency (`ws`) are copied in, so it also runs in a sandbox
 * that sees only the install (and the system, where this Node lives).
 */
export async function createFakeInstall(
  options: { selfContained?: boolean; nodePath?: string } = {},
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ocmt-fake-install-'));
  const nodeDir = join(dir, 'node_modules', nodePackageName());
  const packageDir = join(dir, 'node_modules', 'openclaw');
  await mkdir(join(nodeDir, 'bin'), { recursive: true });
  await mkdir(packageDir, { recursive: true });
  // A sandbox sees the install, not wherever this Node lives (under Node 24 from the runtime cache, outside `/usr`).
  const node = options.nodePath ?? process.execPath;
  if (options.selfContained === true) await copyFile(node, join(nodeDir, 'bin', 'node'));
  else await symlink(node, join(nodeDir, 'bin', 'node'));
  await writeFile(join(nodeDir, 'package.json'), JSON.stringify({ name: nodePackageName(), version: '24.99.0' }));
  await writeFile(join(packageDir, 'package.json'), JSON.stringify({ name: 'openclaw', version: '2026.9.6-fake' }));
  await mkdir(dirname(join(dir, FAKE_SPAWN_BROKER_ENTRY)), { recursive: true });
  await writeFile(join(dir, FAKE_SPAWN_BROKER_ENTRY), FAKE_SPAWN_BROKER_SOURCE);
  if (options.selfContained === true) {
    await cp(FAKE_ENTRY, join(packageDir, 'openclaw.mjs'));
    await cp(dirname(createRequire(FAKE_ENTRY).resolve('ws/package.json')), join(dir, 'node_modules', 'ws'), { recursive: true });
    await chmod(dir, 0o755);
  } else {
    await writeFile(join(packageDir, 'openclaw.mjs'), `import ${JSON.stringify(FAKE_ENTRY)};\n`);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A front door with the openclaw runtime over fs stores in a fresh directory. */
export interface OpenClawHarness {
  gateway: Gateway;
  manager: TenantManager;
  runtime: OpenClawRuntime;
  adapter: FsAdapter;
  dataDir: string;
  url: string;
  /** Issues a token for a tenant (and gives it an OpenClaw config when one is passed). */
  tenant(tenantId: string, openclaw?: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export async function startOpenClawGateway(options: {
  runtime: OpenClawRuntimeOptions;
  manager?: Partial<TenantManagerOptions>;
  /** Gateway options, or a function of the runtime giving them (for routes that need it). */
  gateway?: Partial<GatewayOptions> | ((runtime: OpenClawRuntime) => Partial<GatewayOptions>);
  dataDir?: string;
}): Promise<OpenClawHarness> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'ocmt-openclaw-')));
  const adapter = createFsAdapter({ dataDir, pollIntervalMs: 50 });
  const manager = new TenantManager({ ...adapter, idleTimeoutMs: 0, drainTimeoutMs: 200, ...options.manager });
  // The fake entry imports from this repository, which a sandbox does not show: tests of the sandbox opt in.
  const runtime = createOpenClawRuntime({ sandbox: false, ...options.runtime });
  // The handshake must outlive a cold start (see the runtime's coldStartWaitMs).
  const gateway = createGateway({
    manager,
    runtime,
    port: 0,
    drainTimeoutMs: 500,
    handshakeTimeoutMs: 180_000,
    ...(typeof options.gateway === 'function' ? options.gateway(runtime) : options.gateway),
  });
  const { url } = await gateway.listen();
  return {
    gateway,
    manager,
    runtime,
    adapter,
    dataDir,
    url,
    async tenant(tenantId, openclaw) {
      if (openclaw !== undefined) await adapter.configs.set(tenantId, { config: { openclaw: openclaw as never } });
      return (await manager.tokens.create(tenantId)).token;
    },
    async stop() {
      await gateway.close();
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Whether a failed connect or request is worth retrying (a cold start, a restart). */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof GatewayRequestError)) return false;
  return error.shape.retryable === true || error.shape.code === 'UNAVAILABLE' || error.closeCode === 1013 || error.closeCode === 1012;
}

/** Connects like a patient client: retries retryable failures (cold start) until `deadlineMs`. */
export async function connectRetrying(
  options: ConnectGatewayOptions,
  deadlineMs = 240_000,
  onRetry?: (error: GatewayRequestError) => void,
): Promise<GatewayConnection> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await connectGateway({ timeoutMs: 200_000, ...options });
    } catch (error) {
      if (!isRetryable(error) || Date.now() > deadline) throw error;
      onRetry?.(error as GatewayRequestError);
      const wait = (error as GatewayRequestError).shape.retryAfterMs ?? 1_000;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 5_000)));
    }
  }
}

/** Waits until `check` returns a truthy value (polling), or throws with `what` after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Established TCP connections whose server side is `port` on this host (from `/proc/net/tcp*`). */
export async function establishedConnections(port: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4) continue;
      const localPort = Number.parseInt(fields[1]!.split(':')[1] ?? '', 16);
      if (localPort === port && fields[3] === '01') count++;
    }
  }
  return count;
}
