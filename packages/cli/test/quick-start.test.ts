import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { run, serve, tempDir } from './support/cli-process.js';

const running: Array<{ child: import('node:child_process').ChildProcess }> = [];
afterEach(() => {
  for (const server of running.splice(0)) server.child.kill('SIGKILL');
});

describe('the quick start, with the built binary', () => {
  test('serve on the embedded default → tokens create → connect --message gets an answer', async () => {
    const cwd = await tempDir();
    const server = await serve([], { cwd });
    running.push(server);
    expect(server.output()).toContain('tokens create');
    const created = await run(['tokens', 'create', 'alice', '--json'], { cwd });
    expect(created.code).toBe(0);
    const parsed = JSON.parse(created.stdout) as { token: string };
    expect(Object.keys(parsed)).toEqual(['token']);
    expect(parsed.token).toMatch(/^gt_[0-9A-Za-z]{38}$/);
    expect(created.stderr).not.toContain(parsed.token);
    const answer = await run(['connect', '--url', server.url, '--gateway-token', parsed.token, '--message', 'hi'], { cwd });
    expect(answer).toMatchObject({ code: 0, stdout: 'You said: hi\n' });
    // The embedded default keeps everything under ./.openclaw-mt, private to the operator.
    expect((await stat(join(cwd, '.openclaw-mt'))).mode & 0o777).toBe(0o700);
  });

  test('the token can come from the environment; interactive input is read line by line', async () => {
    const cwd = await tempDir();
    const server = await serve([], { cwd });
    running.push(server);
    const { token } = JSON.parse((await run(['tokens', 'create', 'bob', '--json'], { cwd })).stdout);
    const answer = await run(['connect', '--url', server.url], { cwd, env: { OPENCLAW_GATEWAY_TOKEN: token }, input: 'one\ntwo\n' });
    expect(answer.code).toBe(0);
    expect(answer.stdout).toBe('You said: one\nYou said: two\n');
  });

  test('a revoked token is refused with a non-zero exit and a coded message; a bad one likewise', async () => {
    const cwd = await tempDir();
    const server = await serve([], { cwd });
    running.push(server);
    const { token } = JSON.parse((await run(['tokens', 'create', 'carol', '--json'], { cwd })).stdout);
    const listed = JSON.parse((await run(['tokens', 'list', 'carol', '--json'], { cwd })).stdout);
    expect(listed.tokens).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(token);
    expect((await run(['tokens', 'revoke', token], { cwd })).code).toBe(0);
    const refused = await run(['connect', '--url', server.url, '--gateway-token', token, '--message', 'hi'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('TOKEN_REVOKED');
    expect(refused.stderr).not.toContain(token);
    const bad = await run(['connect', '--url', server.url, '--gateway-token', 'gt_nope', '--message', 'hi'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TOKEN_MALFORMED');
  });

  test('SIGTERM shuts the gateway down gracefully and exits 0', async () => {
    const cwd = await tempDir();
    const server = await serve([], { cwd });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('shutting down gracefully');
  });

  test('invalid input gets a clear error and a documented exit code', async () => {
    const cwd = await tempDir();
    const badUser = await run(['tokens', 'create', '../etc', '--json'], { cwd });
    expect(badUser.code).toBe(2);
    expect(JSON.parse(badUser.stderr).error.code).toBe('TENANT_ID_INVALID');
    expect(badUser.stdout).toBe('');
    const noToken = await run(['connect', '--message', 'hi'], { cwd, env: { OPENCLAW_GATEWAY_TOKEN: '' } });
    expect(noToken.code).toBe(2);
    const badConfig = await run(['tokens', 'list', 'x', '--config', join(cwd, 'missing.json')], { cwd });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('CONFIG_INVALID');
  });
});
