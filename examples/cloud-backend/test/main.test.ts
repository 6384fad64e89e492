import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { SECRETS } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

describe('main (started from the environment)', () => {
  test('refuses to start without its secrets (exit 78) and names what is missing', async () => {
    const { child, output } = start({ SERVICE_TOKEN: SECRETS.serviceToken });
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(output().stderr).toContain('JWT_SECRET');
    expect(output().stderr).not.toContain(SECRETS.serviceToken);
  });

  test('listens where PORT says, prints the URL (and no secret), serves, and stops on SIGTERM', async () => {
    const { child, output } = start({
      PORT: '0',
      DATABASE: ':memory:',
      JWT_SECRET: SECRETS.jwtSecret,
      SERVICE_TOKEN: SECRETS.serviceToken,
      ADMIN_TOKEN: SECRETS.adminToken,
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const match = /listening on (http:\/\/\S+)/.exec(output().stdout);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output().stderr}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    for (const secret of Object.values(SECRETS)) expect(output().stdout + output().stderr).not.toContain(secret);
  });
});
