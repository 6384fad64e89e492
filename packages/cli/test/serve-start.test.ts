import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { run, tempDir } from './support/cli-process.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A port some other process holds for the whole test. */
async function takenPort(): Promise<number> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something still listens on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

describe('serve starts whole or not at all', () => {
  test('a taken admin port stops the start: coded error, exit 2, and the front door it opened is closed', async () => {
    const cwd = await tempDir();
    const [port, adminPort] = [await freePort(), await takenPort()];
    const result = await run(['serve', '--port', String(port), '--admin-port', String(adminPort)], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain(`admin endpoint cannot listen on 127.0.0.1:${adminPort}`);
    expect(result.stderr).toContain('EADDRINUSE');
    expect(result.stdout).not.toContain('listening on');
    expect(await listening(port)).toBe(false);
  }, 30_000);

  test('a taken gateway port stops the start the same way', async () => {
    const cwd = await tempDir();
    const port = await takenPort();
    const result = await run(['serve', '--port', String(port), '--admin-port', '0'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`gateway cannot listen on 127.0.0.1:${port}`);
  }, 30_000);
});
