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
  /**
   * Its anonymous resident memory (`RssAnon`): RSS without the pages it maps from files, such as the Node binary's
   * (~65 MiB per OpenClaw process), which the kernel keeps once for every process that maps them and can read
   * again from disk. What this process alone takes from the host.
   */
  anonBytes: number;
  /** CPU time used so far (user plus system), in seconds. */
  cpuSeconds: number;
}

const PAGE_SIZE = 4096;
/** `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat` (100 on every Linux ABI Node runs on). */
const CLOCK_TICKS_PER_SECOND = 100;

async function readEntry(pid: number): Promise<ProcessEntry | undefined> {
  try {
    const [text, pages, info] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/statm`, 'utf8'),
      stat(`/proc/${pid}`),
    ]);
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // statm, in pages: size, resident, shared (file-backed and shared memory), … Resident − shared is RssAnon.
    const [, resident = 0, shared = 0] = pages.split(' ').map(Number);
    return {
      pid,
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      uid: info.uid,
      rssBytes: Number(fields[21]) * PAGE_SIZE,
      anonBytes: Math.max(0, resident - shared) * PAGE_SIZE,
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND,
    };
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

/** What a set of processes (a cell and the helpers it started) uses right now. */
export interface GroupUsage {
  /** Resident memory of all its processes, in bytes. */
  rssBytes: number;
  /** Their anonymous resident memory ({@link ProcessEntry.anonBytes}): what they take from the host beside the files they share. */
  anonBytes: number;
  /** CPU time its live processes have used, in seconds (exited helpers no longer count). */
  cpuSeconds: number;
  processes: number;
}

/** A process tree's memory, both ways it is counted. */
export type ResidentMemory = Pick<GroupUsage, 'rssBytes' | 'anonBytes'>;

/** Which processes belong to a cell: its own tree, however its members regrouped or reparented. */
export interface CellProcesses {
  /** The process the cell was spawned as (the sandbox, or the gateway itself). */
  rootPid: number;
  /** The tenant's own OS user, when cells run as one: its daemons count even after they left the tree. */
  uid?: number;
}

/**
 * What a cell's processes use: the root's process group, every descendant of the root (a helper that
 * started its own session or group is still the cell's), and every process of the tenant's user.
 * `table` is one listing of the host's processes, shared by every cell measured at the same time.
 */
export function cellProcessUsage(table: readonly ProcessEntry[], which: CellProcesses): GroupUsage {
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) {
    const siblings = children.get(entry.ppid);
    if (siblings === undefined) children.set(entry.ppid, [entry]);
    else siblings.push(entry);
  }
  const members = new Map<number, ProcessEntry>();
  const pending = table.filter((entry) => entry.pid === which.rootPid);
  while (pending.length > 0) {
    const entry = pending.pop()!;
    if (members.has(entry.pid)) continue;
    members.set(entry.pid, entry);
    pending.push(...(children.get(entry.pid) ?? []));
  }
  for (const entry of table) {
    const ours = entry.pgid === which.rootPid || (which.uid !== undefined && which.uid !== 0 && entry.uid === which.uid);
    if (ours && !members.has(entry.pid)) members.set(entry.pid, entry);
  }
  let rssBytes = 0;
  let anonBytes = 0;
  let cpuSeconds = 0;
  for (const entry of members.values()) {
    rssBytes += entry.rssBytes;
    anonBytes += entry.anonBytes;
    cpuSeconds += entry.cpuSeconds;
  }
  return { rssBytes, anonBytes, cpuSeconds, processes: members.size };
}

/**
 * Asks a cell's processes to stop: SIGTERM to its process group, but in a sandbox not to bubblewrap's own two
 * (its monitor, the group's leader, and the PID namespace's init, its child): bubblewrap dies of SIGTERM and takes
 * the namespace with it, so OpenClaw would be killed before it could shut down. The namespace still ends with
 * OpenClaw's process. Returns whether any process received it.
 */
export async function askGroupToStop(pgid: number, sandboxed: boolean): Promise<boolean> {
  if (!sandboxed) return signalGroup(pgid, 'SIGTERM');
  let sent = false;
  for (const entry of await listProcesses()) {
    if (entry.pgid !== pgid || entry.pid === pgid || entry.ppid === pgid) continue;
    try {
      process.kill(entry.pid, 'SIGTERM');
      sent = true;
    } catch {
      // Gone already.
    }
  }
  return sent;
}
