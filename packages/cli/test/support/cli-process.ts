import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built CLI, as users run it. */
export const CLI = new URL('../../bin/openclaw-mt.js', import.meta.url).pathname;

/** A fresh working directory (the embedded default keeps its data under ./.openclaw-mt). */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ocmt-cli-'));
}

/** Runs the CLI to completion. */
export function run(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, OPENCLAW_MT_CONFIG: '', NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Starts `openclaw-mt serve` (free ports) and resolves once it prints its URLs. */
export function serve(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ child: ChildProcess; url: string; adminUrl: string | undefined; output: () => string; exited: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--admin-port', '0', ...args], {
      cwd: options.cwd,
      env: { ...process.env, OPENCLAW_MT_CONFIG: '', NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number>((done) => child.on('close', (code) => done(code ?? -1)));
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (ws:\/\/\S+)/.exec(output);
      const admin = /admin:\s+(\S+)/.exec(output);
      if (match && admin) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, adminUrl: admin[1] === 'disabled' ? undefined : admin[1], output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    });
  });
}
