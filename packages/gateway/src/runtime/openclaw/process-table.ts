import { readdir, readFile, stat } from 'node:fs/promises';

/** One process, as `/proc` shows it. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Process group. */
  pgid: number;
  /** Effective user id (owner of `/proc/<pid>`). */
  uid: number;
  rssBytes: number;
}

const PAGE_SIZE = 4096;

async function readEntry(pid: number): Promise<ProcessEntry | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), stat(`/proc/${pid}`)]);
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), uid: info.uid, rssBytes: Number(fields[21]) * PAGE_SIZE };
  } catch {
    // Gone between the listing and the read.
    return undefined;
  }
}

/** Every process on the host (Linux `/proc`); empty where there is no `/proc`. */
export async function listProcesses(): Promise<ProcessEntry[]> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  const entries = await Promise.all(names.filter((name) => /^[0-9]+$/.test(name)).map((name) => readEntry(Number(name))));
  return entries.filter((entry): entry is ProcessEntry => entry !== undefined);
}

/** Sends a signal to a whole process group; returns whether any process received it. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills every process of a user. Only for the dedicated per-tenant users: a tenant's agent may have
 * left daemons in their own sessions, outside the cell's process group.
 */
export async function killUserProcesses(uid: number): Promise<number> {
  if (uid === 0 || uid === process.getuid?.()) return 0;
  let killed = 0;
  for (const entry of await listProcesses()) {
    if (entry.uid !== uid) continue;
    try {
      process.kill(entry.pid, 'SIGKILL');
      killed++;
    } catch {
      // Already gone.
    }
  }
  return killed;
}

/** Resident memory of a process group (the cell and the helpers it started), in bytes. */
export async function groupMemory(pgid: number): Promise<number> {
  return (await listProcesses()).filter((entry) => entry.pgid === pgid).reduce((sum, entry) => sum + entry.rssBytes, 0);
}
