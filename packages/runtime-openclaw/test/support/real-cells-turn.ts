import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real OpenClaw cell takes 20–28 CPU-seconds to start. Test files that start real cells take turns, one
// file at a time on the host (whatever runs them: this suite's workers, another run), so a 2-core machine
// never boots five at once and OpenClaw's own start-up timeouts hold. Other test files run beside them.

const TURN = join(tmpdir(), 'openclaw-mt-real-cells.turn');
const OWNER = join(TURN, 'pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the current turn belongs to a process that is gone (or never said who it is, 10 s on). */
async function abandoned(): Promise<boolean> {
  try {
    return !alive(Number(await readFile(OWNER, 'utf8')));
  } catch {
    try {
      return Date.now() - (await stat(TURN)).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
}

/** Waits for this file's turn to start real OpenClaw cells; returns the function that ends it. */
export async function takeRealCellsTurn(): Promise<() => Promise<void>> {
  for (;;) {
    try {
      await mkdir(TURN);
      await writeFile(OWNER, String(process.pid));
      return () => rm(TURN, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await abandoned()) await rm(TURN, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
