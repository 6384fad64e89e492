import { execFile } from 'node:child_process';

const probes = new Map<string, Promise<boolean>>();

/**
 * Whether `name` on PATH is the GNU tool (`find` of findutils, `du` of coreutils), whose options the
 * tree walks rely on (`-printf`, `--null`). Asked once per process; anything else (BusyBox, a missing
 * tool) leaves the walk to Node.
 */
export function hasGnuTool(name: 'find' | 'du'): Promise<boolean> {
  let probe = probes.get(name);
  if (probe === undefined) {
    probe = new Promise((resolve) => {
      execFile(name, ['--version'], { timeout: 10_000, encoding: 'utf8' }, (error, stdout) =>
        resolve(error === null && /\bGNU\b/.test(stdout.split('\n')[0] ?? '')),
      );
    });
    probes.set(name, probe);
  }
  return probe;
}

/**
 * Runs a tool and returns everything it wrote to stdout, whatever its exit code (a walk reports
 * entries that vanished under it and goes on), or the spawn error. stderr is kept for messages.
 */
export function runTool(
  file: string,
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, encoding: 'buffer', maxBuffer: 1024 ** 3, timeout: 10 * 60_000 }, (error, stdout, stderr) => {
      if (error === null) return resolve({ stdout, stderr: stderr.toString('utf8'), code: 0 });
      // A string code: it did not run (ENOENT) or its output overflowed; a number: its exit code; none: killed.
      if (typeof error.code === 'string') return reject(error);
      resolve({ stdout, stderr: stderr.toString('utf8'), code: error.code ?? null });
    });
  });
}
