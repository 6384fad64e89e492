import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Every process below `pid` (children, grandchildren, …), read from `/proc`. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (parent: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return out;
}

/** The process of a cell whose script (first argument) ends with `marker` (the OpenClaw entry inside the sandbox). */
export function cellProcess(cellPid: number, marker: string): number {
  const found = descendants(cellPid).find((pid) => {
    try {
      // Node running the entry (through the relay, in the same process), not bwrap, whose command line names it too.
      const [program, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return program?.endsWith('/node') === true && args.some((arg) => arg.endsWith(marker));
    } catch {
      return false;
    }
  });
  if (found === undefined) throw new Error(`no process of cell ${cellPid} runs ${marker}`);
  return found;
}

/**
 * Runs a Node script inside the namespaces of process `pid` (mount, PID, network, IPC, UTS, its root and
 * working directory) as `uid`/`gid` without supplementary groups or capabilities — what a shell the
 * tenant got in its cell would be — and returns what the script printed, parsed as JSON.
 */
export function runInside<T>(pid: number, user: { uid: number; gid: number }, node: string, script: string, input: unknown): Promise<T> {
  // Asynchronous: the gateways the script talks to run in this process.
  return new Promise((resolve, reject) =>
    execFile(
      'nsenter',
      [
        '-t',
        String(pid),
        '-m',
        '-p',
        '-n',
        '-i',
        '-u',
        '-r',
        '-w',
        '-S',
        String(user.uid),
        '-G',
        String(user.gid),
        '--',
        node,
        '-e',
        script,
        JSON.stringify(input),
      ],
      { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 },
      (error, stdout) => (error === null ? resolve(JSON.parse(stdout) as T) : reject(error)),
    ),
  );
}

/** Looks around from inside a sandbox: files, processes, ports, secrets. Runs as a plain script (no imports). */
export const LOOK_AROUND = `
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const input = JSON.parse(process.argv[1]);
const readable = {};
for (const p of input.paths) {
  try { readable[p] = fs.statSync(p).isDirectory() ? fs.readdirSync(p).sort() : fs.readFileSync(p).length >= 0; } catch { readable[p] = false; }
}
const pids = fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n));
// Every command line but this probe's own (its argument names what it looks for).
const commands = pids.filter((p) => p !== String(process.pid)).map((p) => { try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\\0').join(' '); } catch { return ''; } });
const leaks = [];
const has = (text) => input.secrets.some((s) => text.includes(s));
if (has(JSON.stringify(process.env))) leaks.push('env');
for (const p of pids) { try { if (has(fs.readFileSync('/proc/' + p + '/environ', 'utf8'))) leaks.push('/proc/' + p + '/environ'); } catch {} }
const skip = new Set(['/proc', '/sys', '/dev', '/usr']);
let scanned = 0;
const walk = (dir, depth) => {
  let entries = [];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (skip.has(p) || depth > 24) continue;
    if (e.isDirectory()) walk(p, depth + 1);
    else if (e.isFile()) {
      try { const st = fs.statSync(p); if (st.size > 4 * 1024 * 1024) continue; scanned++; if (has(fs.readFileSync(p, 'latin1'))) leaks.push(p); } catch {}
    }
  }
};
walk('/', 0);
const connects = {};
let left = input.ports.length;
const done = () => { if (--left === 0) { console.log(JSON.stringify({ readable, pids, commands, leaks, scanned, connects, hostname: require('node:os').hostname() })); process.exit(0); } };
if (left === 0) { left = 1; done(); }
for (const port of input.ports) {
  const s = net.connect({ host: '127.0.0.1', port });
  const t = setTimeout(() => { connects[port] = false; s.destroy(); done(); }, 2000);
  s.once('connect', () => { clearTimeout(t); connects[port] = true; s.destroy(); done(); });
  s.once('error', () => { clearTimeout(t); connects[port] = false; done(); });
}
`;

/** Calls the cell's model provider from inside, with what the cell's config says: its base URL and key. */
export const CALL_MODEL = `
const fs = require('node:fs');
const input = JSON.parse(process.argv[1]);
const config = JSON.parse(fs.readFileSync(input.configPath, 'utf8'));
const provider = config.models.providers[input.provider];
// The key itself, or a SecretRef naming the environment variable of the cell's processes that holds it.
const environ = (name) => fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).map((p) => {
  try { return fs.readFileSync('/proc/' + p + '/environ', 'utf8').split('\\0').find((e) => e.startsWith(name + '=')); } catch { return undefined; }
}).find(Boolean)?.slice(name.length + 1);
const key = typeof provider.apiKey === 'string' ? provider.apiKey : environ(provider.apiKey.id);
fetch(provider.baseUrl + '/chat/completions', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: input.message }] }),
  signal: AbortSignal.timeout(20000),
}).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text(), provider, key })),
  (e) => console.log(JSON.stringify({ status: 0, body: String(e) + ' ' + String(e.cause), provider, key })))
  .finally(() => process.exit(0));
`;
