import { afterEach, describe, expect, it } from 'vitest';
import { createToken } from '@openclaw-mt/core/tokens';
import { connectGateway } from '@openclaw-mt/gateway';
import { run, serve, tempDir } from './support/cli-process.js';
import { freePort } from './support/free-port.js';

const running: Array<{ kill: () => boolean }> = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill();
});

describe('a gateway that cannot be reached', () => {
  it('connect says nothing is listening at the URL and exits 4, without the token', async () => {
    const port = await freePort();
    const token = createToken();
    const result = await run(['connect', '--url', `ws://127.0.0.1:${port}`, '--message', 'hi'], {
      cwd: await tempDir(),
      env: { OPENCLAW_GATEWAY_TOKEN: token },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`Nothing is listening at ws://127.0.0.1:${port}.`);
    expect(result.stderr).not.toContain('1006');
    expect(result.stderr + result.stdout).not.toContain(token);
  });

  it('stats against an admin URL with nothing behind it says so and exits 4', async () => {
    const port = await freePort();
    const result = await run(['stats', '--admin-url', `http://127.0.0.1:${port}`], {
      cwd: await tempDir(),
      env: { OPENCLAW_MT_ADMIN_TOKEN: 'an-admin-token-for-this-test' },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`Nothing is listening at http://127.0.0.1:${port}.`);
  });
});

describe('a locked-out token', () => {
  it('connect exits 4 and shows the wait the gateway’s 429 gave', async () => {
    const cwd = await tempDir();
    const gateway = await serve([], { cwd });
    running.push(gateway.child);
    const token = createToken();
    // Ten wrong answers for one credential from one address lock it out (the default limit).
    for (let i = 0; i < 10; i++) await expect(connectGateway({ url: gateway.url, token })).rejects.toMatchObject({ code: 'TOKEN_UNKNOWN' });
    const result = await run(['connect', '--url', gateway.url, '--message', 'hi'], { cwd, env: { OPENCLAW_GATEWAY_TOKEN: token } });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/RATE_LIMITED: .*locked out; try again in (4 min \d+ s|5 min)\.\n$/);
    expect(result.stderr + result.stdout).not.toContain(token);
  });
});
