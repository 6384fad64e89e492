// Runs inside a cell's sandbox, in OpenClaw's own process, before OpenClaw: no Node process of its own
// (one would cost ~50 MB per cell). A sandbox without network has only its own loopback, so this joins it
// to the host through Unix sockets bind-mounted from there:
//   - the front door reaches the cell's gateway: <gatewaySocket> → 127.0.0.1:<gatewayPort>
//   - the cell reaches the model gateway: 127.0.0.1:<modelPort> → <modelSocket>
// then loads the OpenClaw entry after `--` as if Node had been started with it (process.argv as it would
// be; no --import, which would turn off OpenClaw's own module-resolution fast path).
// Before that it removes OpenClaw's gateway locks left by the cell's previous process: they name that
// process by PID, and in a fresh PID namespace the same small PIDs come back, so a stale lock would
// look held; and the Control UI assets older releases had cells copy into the tenant's state. Nothing else
// of the cell runs now (its sandbox is new), and this runs as the tenant's user.
// Processes OpenClaw starts never see the plan: it leaves the environment before OpenClaw loads.
// It also gives memory back after a conversation: OpenClaw keeps the worker threads a chat turn starts
// (transcripts, usage, SQLite stores) for 30 minutes after their last use, 150–270 MB per cell. Once no model
// call has been open for `releaseIdleWorkersMs`, it raises OpenClaw's own low-memory signal, on which OpenClaw
// retires the workers that are idle (busy ones stay); the next turn starts them again (~3 s). Without a model call
// since the last quiet time it leaves the workers alone (OpenClaw's upkeep every minute would start them again at
// once), except at the first quiet time of a cell whose sweep of cloud workers is off (below): OpenClaw's start
// leaves two state readers, its upkeep starts one again. At each quiet time it stops OpenClaw's SQLite reader, at once
// or when its open request is answered: a helper process (~90 MB) OpenClaw keeps from its start to its end, which an
// idle cell does not use, and starts again when it needs one. The first quiet time counts from the end of OpenClaw's
// start, which reads through that reader. That reader is this process's own child only without OpenClaw's spawn
// broker (the host's default).
// And once OpenClaw's gateway listens, it asks V8 to favour memory over speed (below).
// Without network it also keeps OpenClaw from sweeping its cloud workers every minute (below): a cell has none.
// A primed process (plan.primed) first loads the modules the host lists on stdin, then waits for a tenant:
// the host mounts that tenant's directories over the sandbox's placeholders and sends `go` (its account and
// tokens); the process enters the tenant's workspace, becomes the tenant's user (it started as root keeping
// only setuid/setgid) and goes on as any cell. A recording run (plan.record) lists the modules OpenClaw loads.
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const plan = JSON.parse(process.env.OPENCLAW_MT_RELAY ?? '{}');
delete process.env.OPENCLAW_MT_RELAY;
const separator = process.argv.indexOf('--');
const [entry, ...args] = separator === -1 ? [] : process.argv.slice(separator + 1);
if (entry === undefined) {
  process.stderr.write('cell-relay: no entry after --\n');
  process.exit(2);
}

/** The host's messages, one JSON object per line on stdin. */
function hostMessages() {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  return {
    async next() {
      const { value, done } = await lines.next();
      // The host went away: nothing to wait for.
      if (done) process.exit(0);
      return JSON.parse(value);
    },
    close() {
      process.stdin.destroy();
    },
  };
}

if (typeof plan.record === 'string') {
  // Every module OpenClaw's main thread loads, until the host says it has seen OpenClaw take connections.
  const loaded = [];
  // Node ≥ 22.15 has in-thread hooks (OpenClaw needs 24); on an older Node the list stays empty.
  nodeModule.registerHooks?.({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (url.startsWith('file:')) loaded.push({ url, format: result.format });
      return result;
    },
  });
  const host = hostMessages();
  void host.next().then(() => {
    writeFileSync(plan.record, JSON.stringify(loaded));
    host.close();
  });
}

if (plan.primed === true) {
  const host = hostMessages();
  const { preload } = await host.next();
  const started = performance.now();
  let loaded = 0;
  for (const { url, format } of preload) {
    if (format !== 'module' && format !== 'commonjs') continue;
    try {
      await import(url);
      loaded++;
    } catch {
      // OpenClaw loads it again when it needs it, and reports what fails then.
    }
  }
  process.stdout.write(`[openclaw-mt] primed: ${loaded} modules in ${Math.round(performance.now() - started)} ms\n`);
  const { go } = await host.next();
  host.close();
  if (go.uid !== undefined) {
    process.setgroups([]);
    process.setgid(go.gid);
    process.setuid(go.uid);
    if (process.getuid() !== go.uid || process.geteuid() !== go.uid || process.getgid() !== go.gid) process.exit(71);
  }
  // The tenant's directories were mounted over the placeholders this process sat in: enter them anew (as the tenant).
  process.chdir(process.cwd());
  Object.assign(process.env, go.env);
}

function relay(listenOn, connectTo, activity) {
  const server = createServer({ pauseOnConnect: true }, (inbound) => {
    const outbound = connect(connectTo);
    activity?.opened();
    let open = true;
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      if (open) activity?.closed();
      open = false;
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    outbound.once('connect', () => {
      inbound.pipe(outbound).pipe(inbound);
      inbound.resume();
    });
  });
  server.on('error', (error) => {
    process.stderr.write(`cell-relay: ${error.message}\n`);
    process.exit(70);
  });
  server.listen(listenOn);
  server.unref();
}

const lockDir = process.env.OPENCLAW_STATE_DIR && join(process.env.OPENCLAW_STATE_DIR, 'tmp', `openclaw-${process.getuid()}`);
try {
  for (const name of readdirSync(lockDir)) if (/^gateway\..*\.lock$/.test(name)) rmSync(join(lockDir, name), { force: true });
} catch {
  // no locks yet
}
// Cells leave the Control UI to the front door (`gateway.controlUi.enabled: false`): the copy of its assets OpenClaw
// kept in a tenant's state before that (~54 MB) is of no use, and OpenClaw does not remove it.
try {
  if (process.env.OPENCLAW_STATE_DIR)
    rmSync(join(process.env.OPENCLAW_STATE_DIR, 'cache', 'control-ui-assets'), { recursive: true, force: true });
} catch (error) {
  process.stderr.write(`cell-relay: cannot remove the cached Control UI assets: ${error.message}\n`);
}

if (typeof plan.gatewaySocket === 'string') {
  rmSync(plan.gatewaySocket, { force: true });
  relay({ path: plan.gatewaySocket }, { host: '127.0.0.1', port: plan.gatewayPort });
}
/** Calls `callback` once OpenClaw's gateway listens on its port: its modules are loaded, its start nearly over. */
function whenGatewayListens(callback) {
  const LISTEN = 'tracing:net.server.listen:asyncEnd';
  const port = Number(args[args.indexOf('--port') + 1]);
  const listening = ({ server }) => {
    if (server.address()?.port !== port) return;
    unsubscribe(LISTEN, listening);
    callback();
  };
  subscribe(LISTEN, listening);
}

/**
 * OpenClaw's SQLite readers this process spawned (`--openclaw-sqlite-readonly-child session`), each with the number of
 * its requests still open: OpenClaw sends it one message per request step and it answers each with one.
 */
function sqliteReaders() {
  const open = new Map();
  // Readers busy when asked to stop: stopped as soon as their last request is answered.
  const stopping = new Set();
  subscribe('child_process', ({ process: child }) => {
    // Published before the child has a channel: Node sets `send` when it opens it, before OpenClaw can call it, so
    // counting starts with the first message. Only readers are counted; any other child keeps Node's own `send`.
    Object.defineProperty(child, 'send', {
      configurable: true,
      set(send) {
        const reader = child.spawnargs?.includes('--openclaw-sqlite-readonly-child') && child.spawnargs.at(-1) === 'session';
        const counted = function (...args) {
          const requests = open.get(child);
          // Not after its exit: OpenClaw finds it gone when it tries.
          if (requests !== undefined) open.set(child, requests + 1);
          return send.apply(this, args);
        };
        Object.defineProperty(child, 'send', { configurable: true, writable: true, value: reader ? counted : send });
        if (!reader) return;
        open.set(child, 0);
        child.on('message', () => {
          const requests = open.get(child);
          if (requests === undefined) return;
          open.set(child, Math.max(0, requests - 1));
          // After OpenClaw has taken the answer and, if it reads on at once, asked again.
          if (requests === 1 && stopping.has(child)) setImmediate(() => stopping.has(child) && open.get(child) === 0 && stop(child));
        });
        child.once('exit', () => {
          open.delete(child);
          stopping.delete(child);
        });
      },
    });
  });
  const stop = (child) => {
    open.delete(child);
    stopping.delete(child);
    // OpenClaw retires a reader that reports an error (and kills it) in the same turn, so its next read starts a new
    // one. A signal alone would leave it sending to the dying reader until the exit shows, and that read would fail.
    if (child.listenerCount('error') > 0) child.emit('error', new Error('stopped while idle, to free its memory'));
    if (!child.killed) child.kill('SIGTERM');
    process.stdout.write(`[openclaw-mt] stopped OpenClaw's idle SQLite reader (pid ${child.pid})\n`);
  };
  return {
    /** Stops the readers with no request open, and the others once their requests are answered. */
    stopIdle() {
      for (const [child, requests] of open) {
        if (requests === 0) stop(child);
        else stopping.add(child);
      }
      if (stopping.size > 0) process.stdout.write(`[openclaw-mt] ${stopping.size} SQLite reader(s) will stop once answered\n`);
    },
  };
}

/**
 * Counts open model connections; after `quietMs` with none, stops OpenClaw's idle SQLite readers and, if a model was
 * called since the last quiet time, asks OpenClaw once to retire its idle workers (those of the chat turns). The quiet
 * time runs from the end of OpenClaw's start too (its gateway listening): the start leaves its reader, which an idle
 * cell never uses, and reads through it until then. With `afterStart` the first quiet time retires workers as well:
 * OpenClaw's start leaves two state readers, and without its sweep of cloud workers its upkeep every minute starts only
 * one of them again.
 */
function idleWorkersRelease(quietMs, afterStart) {
  const readers = sqliteReaders();
  let open = 0;
  let called = afterStart;
  let started = false;
  let timer;
  const release = () => {
    if (called) channel('openclaw.memory.critical').publish(undefined);
    called = false;
    readers.stopIdle();
  };
  const arm = () => {
    clearTimeout(timer);
    if (!started || open > 0) return;
    // Node fires longer timers at once: cap them at its longest (~24.8 days).
    timer = setTimeout(release, Math.min(quietMs, 2 ** 31 - 1));
    timer.unref();
  };
  whenGatewayListens(() => {
    started = true;
    arm();
  });
  return {
    opened() {
      open++;
      called = true;
      clearTimeout(timer);
    },
    closed() {
      open--;
      arm();
    },
  };
}

if (typeof plan.modelSocket === 'string') {
  const quietMs = plan.releaseIdleWorkersMs;
  const activity = Number.isSafeInteger(quietMs) && quietMs > 0 ? idleWorkersRelease(quietMs, plan.workerSweep === false) : undefined;
  relay({ host: '127.0.0.1', port: plan.modelPort }, { path: plan.modelSocket }, activity);
}

// OpenClaw's cloud workers (worker environments) run on machines it reaches over the network, or on paired devices that
// connect to it as nodes; a cell without network has neither (the front door lets only operator clients in). Yet every
// minute OpenClaw sweeps its records of them, reading the tenant's state beside its other upkeep, so that its state
// reader pool keeps two worker threads instead of one (~50 MB more, for the cell's life). So the relay keeps that one timer from being armed (found by the message it logs on failure, which names it); every
// other timer is OpenClaw's own. A release whose sweep says otherwise keeps it.
if (plan.workerSweep === false) {
  const setIntervalOf = globalThis.setInterval;
  globalThis.setInterval = function setInterval(callback, ...rest) {
    if (typeof callback !== 'function' || !String(callback).includes('Worker environment reconcile sweep failed'))
      return Reflect.apply(setIntervalOf, this, [callback, ...rest]);
    globalThis.setInterval = setIntervalOf;
    process.stdout.write("[openclaw-mt] OpenClaw's worker-environment sweep is off: this cell has no network\n");
    // A timer that never runs, for OpenClaw to unref and clear as it would its own.
    const never = setIntervalOf(() => undefined, 2 ** 31 - 1);
    clearInterval(never);
    return never;
  };
}

// `--optimize-for-size` (V8 keeps its heap tighter) takes ~70 MB off an idle cell; chat turns take about as long.
// It is set once OpenClaw's gateway listens, its modules loaded: on the command line it slows every start by ~2.5 s.
if (plan.optimizeForSize === true) whenGatewayListens(() => setFlagsFromString('--optimize-for-size'));

process.argv = [process.argv[0], entry, ...args];
await import(pathToFileURL(entry).href);
