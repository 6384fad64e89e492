import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { OpenClawInstall } from '@openclaw-mt/runtime-openclaw';

/** What a run of the `openclaw` CLI ended with. */
export interface CliResult {
  /** Exit code; `null` when it was killed (the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the installed `openclaw` CLI as a user of the front door would: its own home (and state in it), no colour. */
export function runOpenClawCli(
  install: Pick<OpenClawInstall, 'nodePath' | 'entryPath'>,
  home: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 240_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      install.nodePath,
      [install.entryPath, ...args],
      {
        timeout: timeoutMs,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, OPENCLAW_STATE_DIR: join(home, '.openclaw'), NO_COLOR: '1', ...env },
        maxBuffer: 16 * 2 ** 20,
      },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
}
