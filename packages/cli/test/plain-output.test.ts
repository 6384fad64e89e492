import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, tempDir } from './support/cli-process.js';
import { freePort } from './support/free-port.js';

const ESC = '\x1b[';

/**
 * The environment of someone running the CLI by hand: no test-runner or CI variables (citty and consola
 * turn colour off under those by themselves) and a colour terminal type.
 */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENCLAW_MT_CONFIG: '', TERM: 'xterm-256color', ...extra };
  for (const name of ['NO_COLOR', 'FORCE_COLOR', 'TEST', 'VITEST', 'NODE_ENV', 'CI', 'CONSOLA_LEVEL'])
    if (!(name in extra)) delete env[name];
  return env;
}

/** Runs the CLI with stdout and stderr piped (not terminals). */
function piped(args: string[], cwd: string, env = userEnv()): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

describe('output that is not a terminal has no colour codes', () => {
  it.each(
    [
      ['--help'],
      ['tokens', '--help'],
      ['tokns'],
      ['tokens'],
      ['doctor'],
      ['tokens', 'list', 'nobody'],
      ['users', 'list'],
      ['config', 'get', 'nobody'],
    ].map((args) => [args.join(' '), args] as const),
  )('openclaw-mt %s', async (_shown, args) => {
    const { output } = await piped([...args], await tempDir());
    expect(output.length).toBeGreaterThan(0);
    expect(output).not.toContain(ESC);
  });

  it('errors from commands that dial a gateway', async () => {
    const port = await freePort();
    const cwd = await tempDir();
    const env = userEnv({ OPENCLAW_MT_ADMIN_TOKEN: 'an-admin-token-for-this-test', OPENCLAW_GATEWAY_TOKEN: 'gt_unused' });
    for (const args of [
      ['stats', '--admin-url', `http://127.0.0.1:${port}`],
      ['connect', '--url', `ws://127.0.0.1:${port}`, '--message', 'hi'],
    ]) {
      const { code, output } = await piped(args, cwd, env);
      expect(code).toBe(4);
      expect(output).not.toContain(ESC);
    }
  });
});

// `script` gives the CLI a terminal, so colour is what it would print to a person.
const hasScript = spawnSync('script', ['--version']).status === 0;

function inTerminal(args: string[], env: NodeJS.ProcessEnv): string {
  const command = [process.execPath, CLI, ...args].map((part) => `'${part.replaceAll("'", `'\\''`)}'`).join(' ');
  return spawnSync('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8' }).stdout;
}

describe.skipIf(!hasScript)('on a terminal', () => {
  it('help is coloured, unless NO_COLOR is set to anything', () => {
    expect(inTerminal(['--help'], userEnv())).toContain(ESC);
    expect(inTerminal(['--help'], userEnv({ NO_COLOR: 'true' }))).not.toContain(ESC);
    expect(inTerminal(['tokens', '--help'], userEnv({ NO_COLOR: 'yes' }))).not.toContain(ESC);
  });
});
