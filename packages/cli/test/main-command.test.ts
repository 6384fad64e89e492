import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { subCommands } from '../src/main-command.js';
import { CLI, run, tempDir } from './support/cli-process.js';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * Every module URL the CLI process resolves while running `args`. Node 22.15+ runs a resolve hook in the
 * process itself (`registerHooks`); older Node only on the loader thread (`register`), whose output can be lost
 * when the CLI exits, so the in-process hook is preferred.
 */
function resolvedModules(args: string[]): Promise<{ code: number; urls: string[]; stdout: string }> {
  const hook = 'const r = await next(s, c); process.stderr.write("resolved " + r.url + "\\n"); return r;';
  const syncHook = 'const r = next(s, c); writeSync(2, "resolved " + r.url + "\\n"); return r;';
  const register = [
    "import module from 'node:module';",
    "import { writeSync } from 'node:fs';",
    `if (typeof module.registerHooks === 'function') module.registerHooks({ resolve(s, c, next) { ${syncHook} } });`,
    `else module.register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(`export async function resolve(s, c, next) { ${hook} }`)}`)});`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, urls: [...stderr.matchAll(/^resolved (\S+)$/gm)].map((m) => m[1]!) }));
  });
}

describe('the top-level command', () => {
  test.each(Object.entries(subCommands))('%s: the description --help prints is the command’s own', async (name, stub) => {
    const real = await stub.load();
    expect(stub.meta).toEqual({ name, description: (real.meta as { description: string }).description });
    expect((real.meta as { name: string }).name).toBe(name);
    // A group has subcommands and no run of its own; the stub must take the same shape.
    expect(stub.subCommands !== undefined).toBe(real.subCommands !== undefined);
    expect(stub.run !== undefined).toBe(real.run !== undefined);
  });

  test('--help lists every command without loading any command module or library package', async () => {
    const { code, urls, stdout } = await resolvedModules(['--help']);
    expect(code).toBe(0);
    for (const name of Object.keys(subCommands)) expect(stdout).toContain(name);
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.filter((url) => /@openclaw-mt|\/packages\/(?!cli\/)|\/(serve|users|tokens|migrate|doctor)-/.test(url))).toEqual([]);
  });

  test('a command loads its own module only when it runs', async () => {
    const { code, urls } = await resolvedModules(['tokens', '--help']);
    expect(code).toBe(0);
    expect(urls.some((url) => /\/tokens-[\w-]+\.js$/.test(url))).toBe(true);
    expect(urls.some((url) => /\/(serve|users|migrate|doctor)-[\w-]+\.js$/.test(url))).toBe(false);
  });

  test('--version prints the version in package.json; a group without a subcommand or an unknown command exits 1', async () => {
    const cwd = await tempDir();
    expect(await run(['--version'], { cwd })).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
    const group = await run(['tokens'], { cwd });
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('No command specified');
    const unknown = await run(['bogus'], { cwd });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown command');
  });
});
