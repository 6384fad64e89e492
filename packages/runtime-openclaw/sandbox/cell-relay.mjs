// Runs inside a cell's sandbox, in OpenClaw's own process, before OpenClaw: no Node process of its own
// (one would cost ~50 MB per cell). A sandbox without network has only its own loopback, so this joins it
// to the host through Unix sockets bind-mounted from there:
//   - the front door reaches the cell's gateway: <gatewaySocket> → 127.0.0.1:<gatewayPort>
//   - the cell reaches the model gateway: 127.0.0.1:<modelPort> → <modelSocket>
// then loads the OpenClaw entry after `--` as if Node had been started with it (process.argv as it would
// be; no --import, which would turn off OpenClaw's own module-resolution fast path).
// Before that it removes OpenClaw's gateway locks left by the cell's previous process: they name that
// process by PID, and in a fresh PID namespace the same small PIDs come back, so a stale lock would
// look held. Nothing else of the cell runs now (its sandbox is new), and this runs as the tenant's user.
// Processes OpenClaw starts never see the plan: it leaves the environment before OpenClaw loads.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';

const plan = JSON.parse(process.env.OPENCLAW_MT_RELAY ?? '{}');
delete process.env.OPENCLAW_MT_RELAY;
const separator = process.argv.indexOf('--');
const [entry, ...args] = separator === -1 ? [] : process.argv.slice(separator + 1);
if (entry === undefined) {
  process.stderr.write('cell-relay: no entry after --\n');
  process.exit(2);
}

function relay(listenOn, connectTo) {
  const server = createServer({ pauseOnConnect: true }, (inbound) => {
    const outbound = connect(connectTo);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
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

if (typeof plan.gatewaySocket === 'string') {
  rmSync(plan.gatewaySocket, { force: true });
  relay({ path: plan.gatewaySocket }, { host: '127.0.0.1', port: plan.gatewayPort });
}
if (typeof plan.modelSocket === 'string') relay({ host: '127.0.0.1', port: plan.modelPort }, { path: plan.modelSocket });

process.argv = [process.argv[0], entry, ...args];
await import(pathToFileURL(entry).href);
