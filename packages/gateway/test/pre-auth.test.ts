import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { connectGateway } from '@openclaw-mt/gateway';
import { sendOversizedFrame } from './support/oversized-frame.js';
import { upgradeRequest } from './support/raw-connect.js';
import { startGateway } from './support/harness.js';

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const MiB = 1024 * 1024;

function residentBytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) * 1024;
}

describe('before authentication', () => {
  test('100 unauthenticated sockets sending 15 MiB frames are closed with 1009 and barely move the server’s RSS', async () => {
    const child = spawn(process.execPath, ['--expose-gc', new URL('./support/gateway-process.mjs', import.meta.url).pathname], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    stops.push(() => void child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
    const { url, token } = (await next()) as { url: string; token: string };
    // Warm up the code paths an attack takes, then measure from a collected heap.
    (await connectGateway({ url, token })).close();
    await sendOversizedFrame(url, MiB);
    child.stdin!.write('rss\n');
    const before = (await next()).rss as number;
    let peak = residentBytes(child.pid!);
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(child.pid!))), 20);
    const results = await Promise.all(Array.from({ length: 100 }, () => sendOversizedFrame(url, 15 * MiB)));
    clearInterval(sampler);
    peak = Math.max(peak, residentBytes(child.pid!));
    child.stdin!.write('rss\n');
    const after = (await next()).rss as number;
    console.info(
      `pre-auth RSS: before ${(before / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, after ${(after / MiB).toFixed(1)} MiB`,
    );
    expect(results.every((result) => result.code === 1009)).toBe(true);
    expect(peak - before).toBeLessThan(20 * 1_000_000);
    // The server still answers a real client.
    const connection = await connectGateway({ url, token });
    connection.close();
  }, 120_000);

  test('sockets beyond the per-address pre-auth cap are refused with 503 and Retry-After until a place frees', async () => {
    const started = await startGateway({ gateway: { preAuth: { maxSocketsPerAddress: 2 }, handshakeTimeoutMs: 5_000 } });
    stops.push(started.stop);
    const idle = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<WebSocket>((resolve) => {
            const socket = new WebSocket(started.url);
            socket.on('open', () => resolve(socket));
          }),
      ),
    );
    const refused = await upgradeRequest(started.url, {});
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { details: { code: 'CAPACITY', reason: 'pre-auth-limit' } } });
    const gone = new Promise((resolve) => idle[0]!.on('close', resolve));
    idle[0]!.close();
    await gone;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await upgradeRequest(started.url, {})).status).toBe(101);
    idle[1]!.close();
  });

  test('after hello-ok frames up to the full limit are accepted', async () => {
    const started = await startGateway();
    stops.push(started.stop);
    const { token } = await started.manager.tokens.create('bigframes');
    const connection = await connectGateway({ url: started.url, token });
    const content = 'x'.repeat(2 * MiB);
    expect(await connection.request('workspace.write', { name: 'big.md', content })).toMatchObject({ size: 2 * MiB });
    connection.close();
  });
});
