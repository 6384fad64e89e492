import { describe, expect, it } from 'vitest';
import { run, tempDir } from './support/cli-process.js';

const token = 'gt_unused';

describe('connect refuses bad input before connecting', () => {
  it('a URL without ws:// or wss:// exits 2 and says so', async () => {
    const result = await run(['connect', '--gateway-token', token, '--url', 'http://127.0.0.1:1', '--message', 'hi'], {
      cwd: await tempDir(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('must start with ws:// or wss://');
  });

  it('an empty --message exits 2', async () => {
    const result = await run(['connect', '--gateway-token', token, '--message', ''], { cwd: await tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--message is empty');
  });

  it('a token that is only whitespace is missing', async () => {
    const result = await run(['connect', '--message', 'hi'], { cwd: await tempDir(), env: { OPENCLAW_GATEWAY_TOKEN: ' \n' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TOKEN_MALFORMED');
  });
});
