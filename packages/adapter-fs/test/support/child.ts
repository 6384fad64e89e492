import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKER } from './bundle.js';

/** A running worker child: its reports (one JSON value per stdout line) and its exit. */
export interface Worker {
  child: ChildProcess;
  reports: unknown[];
  /** Resolves with the first report for which `predicate` holds. */
  waitFor(predicate: (report: unknown) => boolean): Promise<unknown>;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<number | string>;
  stderr(): string;
}

/** Starts `fixtures/worker.mjs` in `mode` against the bundle at `bundle`; `args` travel in a temp JSON file. */
export function startWorker(bundle: string, mode: string, args: Record<string, unknown>): Worker {
  const argsFile = join(tmpdir(), `ocmt-fs-args-${randomBytes(6).toString('hex')}.json`);
  writeFileSync(argsFile, JSON.stringify(args), { mode: 0o600 });
  const child = spawn(process.execPath, [WORKER, bundle, mode, argsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reports: unknown[] = [];
  const waiters: Array<{ predicate: (report: unknown) => boolean; resolve: (report: unknown) => void }> = [];
  let buffer = '';
  let errors = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (line === '') continue;
      const report = JSON.parse(line) as unknown;
      reports.push(report);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(report)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(report);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      rmSync(argsFile, { force: true });
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    reports,
    waitFor(predicate) {
      const found = reports.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve });
        void exited.then((code) => reject(new Error(`worker exited (${code}) before reporting: ${errors}`)));
      });
    },
    exited,
    stderr: () => errors,
  };
}

/** Waits for a worker to finish successfully and returns its last report. */
export async function finished(worker: Worker): Promise<unknown> {
  const code = await worker.exited;
  if (code !== 0) throw new Error(`worker failed (${code}): ${worker.stderr()}`);
  return worker.reports.at(-1);
}
