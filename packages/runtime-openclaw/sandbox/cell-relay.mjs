// Runs inside a cell's sandbox, in front of OpenClaw. A sandbox without network has only its own
// loopback, so this process joins it to the host through Unix sockets bind-mounted from there:
//   - the front door reaches the cell's gateway: <gatewaySocket> → 127.0.0.1:<gatewayPort>
//   - the cell reaches the model gateway: 127.0.0.1:<modelPort> → <modelSocket>
// then runs the command after `--` and exits as it does (exit code 78 = config error included).
// Before that it removes OpenClaw's gateway locks left by the cell's previous process: they name that
// process by PID, and in a fresh PID namespace the same small PIDs come back, so a stale lock would
// look held. Nothing else of the cell runs now (its sandbox is new), and this runs as the tenant's user.
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';

const plan = JSON.parse(process.env.OPENCLAW_MT_RELAY ?? '{}');
delete process.env.OPENCLAW_MT_RELAY;
const separator = process.argv.indexOf('--');
const [command, ...args] = separator === -1 ? [] : process.argv.slice(separator + 1);
if (command === undefined) {
  process.stderr.write('cell-relay: no command after --\n');
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

const child = spawn(command, args, { stdio: 'inherit' });
// The whole process group gets the stop signal at once: wait for OpenClaw to finish, not die first.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  process.stderr.write(`cell-relay: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
