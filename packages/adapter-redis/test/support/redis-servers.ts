import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The shared server the suite may use (unique prefixes, cleaned up after each test). */
export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A redis-server process this test file started. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Stops the process (SIGTERM: graceful; SIGKILL: a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** AOF with `appendfsync always`, so an acknowledged write survives a crash. */
  appendOnly?: boolean;
  /** Extra `redis-server` arguments. */
  args?: string[];
  port?: number;
  dir?: string;
}

const started = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if a test file dies before its afterAll: never leave servers behind.
  process.once('exit', () => {
    for (const child of started) child.kill('SIGKILL');
  });
}

/** A free TCP port; with `bus`, port + 10000 is free too (Redis Cluster's bus port). */
export async function freePort(bus = false): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await portFree(port)) && (!bus || (await portFree(port + 10_000)))) return port;
  }
  throw new Error('no free port found');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Sends one inline command over a raw socket and returns the reply text (no client library involved). */
export function rawCommand(port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.endsWith('\r\n') && (!data.startsWith('$') || data.split('\r\n').length >= 3)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function waitFor(
  what: string,
  predicate: () => Promise<boolean>,
  timeoutMs = 15_000,
  failed: () => Error | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = failed();
    if (failure !== undefined) throw failure;
    if (await predicate().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The error of a redis-server that exited while starting (its port was taken between the check and the bind). */
class RedisExitedError extends Error {}

/**
 * Starts a redis-server in a temp directory (no RDB snapshots; AOF only when asked). Without a given port it picks a
 * free one (and a free Cluster bus port for `--cluster-enabled yes`), and picks again if another process took it first.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (options.port !== undefined) return startOnPort(options.port, options);
  const cluster = (options.args ?? []).includes('--cluster-enabled');
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnPort(await freePort(cluster), options);
    } catch (error) {
      if (!(error instanceof RedisExitedError) || attempt === 5) throw error;
    }
  }
}

async function startOnPort(port: number, options: RedisServerOptions): Promise<RedisServer> {
  installExitHook();
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'ocmt-redis-')));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (server.running) return;
      const proc = spawn('redis-server', args, { stdio: 'ignore' });
      child = proc;
      started.add(proc);
      proc.once('exit', () => started.delete(proc));
      await waitFor(
        `redis-server on ${port}`,
        async () => (await rawCommand(port, 'PING')).startsWith('+PONG'),
        15_000,
        () => (proc.exitCode === null ? undefined : new RedisExitedError(`redis-server on ${port} exited with ${proc.exitCode}`)),
      );
    },
    async stop(signal = 'SIGTERM') {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await server.start();
  } catch (error) {
    if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return server;
}

/** A local Redis Cluster of `masters` masters without replicas. */
export interface RedisClusterProcesses {
  readonly nodes: RedisServer[];
  /** Root node URLs for `createCluster`. */
  readonly urls: string[];
  /** Stops every node and deletes their directories. */
  stop(): Promise<void>;
}

/**
 * Starts a Cluster (`--cluster-enabled yes` + `redis-cli --cluster create`) and waits for `cluster_state:ok`.
 * `args` go to every node (e.g. `--cluster-require-full-coverage no`).
 */
export async function startRedisCluster(masters = 3, args: string[] = []): Promise<RedisClusterProcesses> {
  const nodes: RedisServer[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
    await Promise.all(nodes.map((node) => rm(node.dir, { recursive: true, force: true })));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedisServer({
          port: await freePort(true),
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', ...args],
        }),
      );
    }
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    for (const node of nodes) {
      await waitFor(`cluster_state:ok on ${node.port}`, async () =>
        (await rawCommand(node.port, 'CLUSTER INFO')).includes('cluster_state:ok'),
      );
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { nodes, urls: nodes.map((node) => node.url), stop: cleanup };
}

/** A key prefix no other test run shares. */
export function uniquePrefix(label: string): string {
  return `ocmt-test-${label}-${randomBytes(4).toString('hex')}`;
}
