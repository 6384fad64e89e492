import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';

const CLI = fileURLToPath(new URL('../../../cli/bin/openclaw-mt.js', import.meta.url));

/** An installed OpenClaw runtime (`openclaw-mt runtime install`), or `undefined`. */
function installedRuntime(): { nodePath: string; entryPath: string } | undefined {
  // Otherwise `runtime install` below finds (or makes) the install in the default directory, where `serve` looks.
  const candidates = [process.env.OPENCLAW_MT_RUNTIME_DIR];
  for (const dir of candidates) {
    if (dir === undefined || dir === '') continue;
    const nodePath = join(dir, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');
    const entryPath = join(dir, 'node_modules', 'openclaw', 'openclaw.mjs');
    if (existsSync(nodePath) && existsSync(entryPath)) return { nodePath, entryPath };
  }
  return undefined;
}

/**
 * The OpenClaw runtime: an installed one, else installed now through the CLI (`openclaw-mt runtime install`,
 * into `$OPENCLAW_MT_RUNTIME_DIR` or its default directory; a minute or two, once).
 */
export async function openClawRuntime(): Promise<{ nodePath: string; entryPath: string }> {
  const found = installedRuntime();
  if (found !== undefined) return found;
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'runtime', 'install', '--json'], {
    timeout: 15 * 60_000,
    maxBuffer: 16 * 2 ** 20,
  });
  return JSON.parse(stdout) as { nodePath: string; entryPath: string };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real OpenClaw gateway process with the given config, and a protocol client on it. */
export interface OpenClawCell {
  configPath: string;
  /** What the process printed (for a failure message). */
  output(): string;
  /** Sends one chat turn and resolves with the final assistant text. */
  chat(message: string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

interface Frame {
  type: string;
  id?: string;
  event?: string;
  ok?: boolean;
  payload?: Record<string, unknown>;
  error?: { message?: string };
}

/** Connects as the trusted local backend and waits for hello-ok; resolves undefined while the gateway is not up yet. */
function connect(port: number, token: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve(undefined);
    }, 20_000);
    socket.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.event === 'connect.challenge') {
        socket.send(
          JSON.stringify({
            type: 'req',
            id: 'connect',
            method: 'connect',
            params: {
              minProtocol: 3,
              maxProtocol: 4,
              client: { id: 'gateway-client', mode: 'backend', version: 'test', platform: process.platform },
              role: 'operator',
              scopes: ['operator.read', 'operator.write', 'operator.admin'],
              auth: { token },
            },
          }),
        );
      } else if (frame.type === 'res' && frame.id === 'connect') {
        clearTimeout(timer);
        if (frame.ok) resolve(socket);
        else {
          socket.close();
          resolve(undefined);
        }
      }
    });
  });
}

/** Starts `openclaw gateway run` from the installed runtime with `config` as its openclaw.json, and connects to it. */
export async function startOpenClawCell(config: Record<string, unknown>, readyTimeoutMs = 180_000): Promise<OpenClawCell> {
  const runtime = await openClawRuntime();
  const root = await mkdtemp(join(tmpdir(), 'ocmt-model-cell-'));
  const paths = { home: join(root, 'home'), tmp: join(root, 'tmp'), state: join(root, 'state'), workspace: join(root, 'workspace') };
  for (const dir of Object.values(paths)) await mkdir(dir, { recursive: true, mode: 0o700 });
  const configPath = join(paths.state, 'openclaw.json');
  await writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  const token = randomBytes(32).toString('base64url');
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    runtime.nodePath,
    [runtime.entryPath, 'gateway', 'run', '--allow-unconfigured', '--auth', 'token', '--bind', 'loopback', '--port', String(port)],
    {
      cwd: paths.workspace,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${dirname(runtime.nodePath)}${delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
        NO_COLOR: '1',
        HOME: paths.home,
        TMPDIR: paths.tmp,
        OPENCLAW_STATE_DIR: paths.state,
        OPENCLAW_CONFIG_PATH: configPath,
        OPENCLAW_WORKSPACE_DIR: paths.workspace,
        OPENCLAW_GATEWAY_TOKEN: token,
        OPENCLAW_SKIP_CHANNELS: '1',
        OPENCLAW_DISABLE_BONJOUR: '1',
        OPENCLAW_NO_RESPAWN: '1',
        OPENCLAW_NO_AUTO_UPDATE: '1',
        OPENCLAW_EXEC_SHELL_SNAPSHOT: '0',
      },
    },
  );
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) process.kill(-child.pid!, 'SIGKILL');
      }, 10_000);
      await gone;
      clearTimeout(timer);
    }
    await rm(root, { recursive: true, force: true });
  };

  let socket: WebSocket | undefined;
  const deadline = Date.now() + readyTimeoutMs;
  while (socket === undefined) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`The OpenClaw gateway did not come up:\n${output}`);
    }
    socket = await connect(port, token);
    if (socket === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const ws = socket;
  const listeners = new Set<(frame: Frame) => void>();
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    for (const listener of listeners) listener(frame);
  });

  return {
    configPath,
    output: () => output,
    chat(text, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const id = `chat-${Date.now()}`;
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`No final chat event in ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        const listener = (frame: Frame) => {
          if (frame.type === 'res' && frame.id === id && frame.ok === false) {
            clearTimeout(timer);
            listeners.delete(listener);
            reject(new Error(`chat.send refused: ${frame.error?.message}`));
          }
          const payload = frame.payload as
            | { state?: string; message?: { content?: Array<{ text?: string }> }; errorMessage?: string }
            | undefined;
          if (frame.event === 'chat' && (payload?.state === 'final' || payload?.state === 'error')) {
            clearTimeout(timer);
            listeners.delete(listener);
            if (payload.state === 'error') reject(new Error(`chat failed: ${payload.errorMessage ?? JSON.stringify(payload)}`));
            else resolve((payload.message?.content ?? []).map((part) => part.text ?? '').join(''));
          }
        };
        listeners.add(listener);
        ws.send(
          JSON.stringify({ type: 'req', id, method: 'chat.send', params: { sessionKey: 'main', message: text, idempotencyKey: id } }),
        );
      });
    },
    async stop() {
      ws.close();
      await stop();
    },
  };
}
