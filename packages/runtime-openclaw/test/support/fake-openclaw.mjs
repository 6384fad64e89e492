// A stand-in for the `openclaw` package's entry, speaking enough of the Gateway protocol for the
// runtime's supervision and bridge tests. Behaviour comes from the `fake` key of its config file.
import { spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1]);
const token = process.env.OPENCLAW_GATEWAY_TOKEN;
const configPath = process.env.OPENCLAW_CONFIG_PATH;
const readConfig = () => {
  try {
    return JSON.parse(readFileSync(configPath, 'utf8'));
  } catch {
    return {};
  }
};
const fake = readConfig().fake ?? {};
const started = Date.now();
// connections and authenticated count every one so far; open counts those open now.
const stats = { connections: 0, authenticated: 0, open: 0, requests: [] };

if (fake.stderr) process.stderr.write(`${fake.stderr.replace('$TOKEN', token)}\n`);
if (fake.exitCode !== undefined) {
  process.stderr.write(`Invalid config at ${configPath}: fake says no (token ${token})\n`);
  process.exit(fake.exitCode);
}
// Like OpenClaw, it says on stdout when its startup sidecars are done and it takes connections.
if (fake.sidecarsMs && fake.announceReady !== false)
  setTimeout(() => process.stdout.write(`${new Date().toISOString()} [gateway] ready\n`), fake.sidecarsMs);
if (fake.ignoreSigterm) process.on('SIGTERM', () => process.stdout.write('ignoring SIGTERM\n'));
else
  process.on('SIGTERM', () => {
    // Shutting down as OpenClaw does, with a file to show it had the chance.
    if (fake.recordStops) writeFileSync(join(process.env.OPENCLAW_STATE_DIR, 'fake-stopped'), `${Date.now()}\n`);
    process.exit(0);
  });
// OpenClaw's own low-memory signal (it retires idle workers on it): a file for each time it is raised.
if (fake.recordMemorySignals)
  subscribe('openclaw.memory.critical', () =>
    writeFileSync(join(process.env.OPENCLAW_STATE_DIR, 'fake-memory-critical'), `${Date.now()}\n`, { flag: 'a' }),
  );
// SQLite readers as OpenClaw keeps them: a child answering each message with one, at once or after `hold` ms (never
// with `hold: true`); retired, as OpenClaw retires one, when it reports an error (then killed) or exits, and replaced
// at the next read. One holds a request open for good. Another is read through during the start (`startDelayMs`, every
// 100 ms) and, once the gateway listens, for `readOnMs` as fast as it answers, as OpenClaw reads on after its first
// answer; one more is then asked a question it answers after `slowReadMs`. Each reader's end goes to a file with its
// signal and the time since the gateway listened; each failed read to another.
// When the gateway listens, and what then runs.
let listenedAt;
let onListening;
if (fake.sqliteReaders) {
  const answer = `process.on('message', (m) => {
    const reply = () => process.send({ id: m.id, result: {} });
    if (m.hold === undefined) reply();
    else if (m.hold !== true) setTimeout(reply, m.hold);
  });`;
  const note = (file, line) => writeFileSync(join(process.env.OPENCLAW_STATE_DIR, file), `${line}\n`, { flag: 'a' });
  let id = 0;
  const session = (name) => {
    const child = spawn(process.execPath, ['-e', answer, '--', '--openclaw-sqlite-readonly-child', 'session'], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const reader = { retired: false, pending: undefined };
    const end = (error) => {
      reader.retired = true;
      reader.pending?.reject(error);
      reader.pending = undefined;
    };
    child.on('error', (error) => {
      end(error);
      child.kill('SIGKILL');
    });
    child.once('close', (code, signal) => {
      note('fake-sqlite-readers', `${name} ${signal ?? code} ${listenedAt === undefined ? 'starting' : Date.now() - listenedAt}`);
      end(new Error(`exited with ${signal ?? code}`));
    });
    child.on('message', () => {
      reader.pending?.resolve();
      reader.pending = undefined;
    });
    reader.read = (hold) =>
      new Promise((resolve, reject) => {
        reader.pending = { resolve, reject };
        child.send({ id: ++id, hold });
      });
    return reader;
  };
  void session('busy')
    .read(true)
    .catch(() => undefined);
  let generation = 0;
  let current;
  const read = async () => {
    if (!current || current.retired) current = session(`reader-${++generation}`);
    await current.read().catch((error) => note('fake-sqlite-read-failures', error.message));
  };
  void read();
  const starting = setInterval(() => void read(), 100);
  const readOn = async () => {
    clearInterval(starting);
    const until = Date.now() + (fake.readOnMs ?? 0);
    while (Date.now() < until) {
      await read();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  onListening = () => {
    void readOn();
    void session('slow')
      .read(fake.slowReadMs ?? 0)
      .catch((error) => note('fake-sqlite-read-failures', `slow: ${error.message}`));
  };
}
// OpenClaw's sweep of its cloud workers, armed as OpenClaw arms it (the message it logs on failure names it), and
// another timer of its upkeep: each run of either goes to a file.
if (fake.workerSweep) {
  const record = (name) => writeFileSync(join(process.env.OPENCLAW_STATE_DIR, name), `${Date.now()}\n`, { flag: 'a' });
  const sweep = setInterval(
    () =>
      void Promise.resolve(record('fake-worker-sweeps')).catch(() => process.stderr.write('Worker environment reconcile sweep failed\n')),
    200,
  );
  sweep.unref?.();
  setInterval(() => record('fake-upkeep'), 200).unref();
}
// The size of OpenClaw's spawn broker entry as this process sees it.
if (fake.reportSpawnBroker)
  writeFileSync(
    join(process.env.OPENCLAW_STATE_DIR, 'fake-spawn-broker'),
    String(statSync(join(dirname(process.argv[1]), 'dist', 'process', 'spawn-broker', 'worker.js')).size),
  );
// Where Node keeps this process's compile cache (none: empty).
if (fake.reportCompileCache)
  writeFileSync(join(process.env.OPENCLAW_STATE_DIR, 'fake-compile-cache'), nodeModule.getCompileCacheDir?.() ?? '');

// OpenClaw's HTTP surfaces, as far as the front door's tests need them: each checks the config that
// enables it and the credential it expects, then echoes what it received. A streamed chat completion
// sends one event and waits for `GET /v1/models/release` before sending the rest.
const streams = [];
function answerHttp(request, response) {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const config = readConfig();
    const path = request.url.split('?')[0];
    const reply = (status, body) => {
      response.writeHead(status, { 'content-type': 'application/json', 'x-fake-cell': 'yes' });
      response.end(JSON.stringify(body));
    };
    const body = Buffer.concat(chunks).toString();
    const echo = {
      path: request.url,
      method: request.method,
      headers: request.headers,
      bodyBytes: Buffer.byteLength(body),
      name: config.fake?.name,
    };
    if (path.startsWith('/v1/')) {
      const endpoints = config.gateway?.http?.endpoints ?? {};
      if (!(path === '/v1/responses' ? endpoints.responses?.enabled : endpoints.chatCompletions?.enabled))
        return reply(404, { error: 'disabled' });
      if (request.headers.authorization !== `Bearer ${token}`) return reply(401, { error: 'unauthorized' });
      if (path === '/v1/models/release') {
        for (const stream of streams.splice(0)) stream.end('data: two\n\ndata: [DONE]\n\n');
        return reply(200, { released: true });
      }
      if (path === '/v1/chat/completions' && body.includes('"stream":true')) {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        response.write('data: one\n\n');
        streams.push(response);
        return;
      }
      return reply(200, echo);
    }
    if (path.startsWith('/hooks')) {
      const hooksToken = process.env.OPENCLAW_MT_HOOKS_TOKEN;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: OpenClaw's own reference to an environment variable
      if (config.hooks?.enabled !== true || config.hooks.token !== '${OPENCLAW_MT_HOOKS_TOKEN}' || !hooksToken)
        return reply(404, { error: 'disabled' });
      const bearer = request.headers.authorization?.replace(/^Bearer /, '');
      if ((bearer ?? request.headers['x-openclaw-token']) !== hooksToken) return reply(401, { error: 'unauthorized' });
      return reply(200, echo);
    }
    reply(404, { error: 'not found' });
  });
}

setTimeout(() => {
  const server = createServer(answerHttp);
  server.listen(port, '127.0.0.1', () => {
    listenedAt = Date.now();
    onListening?.();
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    stats.connections++;
    stats.open++;
    const send = (frame) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(frame));
    let authed = false;
    let tick;
    send({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n', ts: Date.now() } });
    socket.on('close', () => {
      stats.open--;
      clearInterval(tick);
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (!authed) {
        if (frame.params?.auth?.token !== token) {
          send({
            type: 'res',
            id: frame.id,
            ok: false,
            error: { code: 'INVALID_REQUEST', message: 'unauthorized: gateway token mismatch', details: { code: 'AUTH_TOKEN_MISMATCH' } },
          });
          return socket.close(1008, 'unauthorized');
        }
        if (Date.now() - started < (fake.sidecarsMs ?? 0)) {
          send({
            type: 'res',
            id: frame.id,
            ok: false,
            error: {
              code: 'UNAVAILABLE',
              message: 'gateway starting',
              retryable: true,
              retryAfterMs: fake.retryAfterMs ?? 200,
              details: { reason: 'startup-sidecars' },
            },
          });
          return socket.close(1013, 'gateway starting');
        }
        authed = true;
        stats.authenticated++;
        send({
          type: 'res',
          id: frame.id,
          ok: true,
          payload: {
            type: 'hello-ok',
            protocol: 4,
            server: { version: 'fake-2026.9.6', buildId: 'fake-build-1', bootId: 'boot', connId: 'c' },
            features: {
              methods: [
                'health',
                'echo',
                'fail',
                'emit',
                'leak',
                'crash',
                'restart',
                'stats',
                'config.get',
                'config.patch',
                'config.set',
                'update.run',
                'plugins.install',
                'plugins.list',
              ],
              events: ['connect.challenge', 'tick', 'chat', 'shutdown'],
              capabilities: ['chat.send.routing-contract'],
            },
            snapshot: { configPath, stateDir: process.env.OPENCLAW_STATE_DIR, pid: process.pid },
            auth: { method: 'token', role: 'operator', scopes: frame.params.scopes, recoveryScope: 'recovery-secret' },
            policy: { maxPayload: 26214400, tickIntervalMs: 200, attachments: { maxBytes: 1024 } },
            pluginSurfaceUrls: { canvas: `http://127.0.0.1:${port}/__openclaw__/cap/abc` },
          },
        });
        tick = setInterval(() => send({ type: 'event', event: 'tick', payload: { ts: Date.now() } }), 200);
        return;
      }
      stats.requests.push(frame.method);
      const ok = (payload) => send({ type: 'res', id: frame.id, ok: true, payload });
      switch (frame.method) {
        case 'health':
          return ok({
            ok: true,
            pid: process.pid,
            env: {
              home: process.env.HOME,
              workspace: process.env.OPENCLAW_WORKSPACE_DIR,
              service: process.env.OPENCLAW_SERVICE_TOKEN ?? null,
              extra: process.env.FAKE_EXTRA ?? null,
              nodeOptions: process.env.NODE_OPTIONS ?? null,
              mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null,
              glibcTunables: process.env.GLIBC_TUNABLES ?? null,
            },
          });
        case 'echo':
          return ok(frame.params);
        case 'fail':
          return send({
            type: 'res',
            id: frame.id,
            ok: false,
            error: { code: 'INVALID_REQUEST', message: 'nope', details: { code: 'FAKE_REFUSAL' } },
          });
        case 'emit':
          send({ type: 'event', event: 'chat', payload: { text: frame.params?.text }, seq: 7 });
          return ok({ emitted: true });
        case 'leak':
          return ok({ url: `http://127.0.0.1:${port}/__openclaw__/cap/xyz`, token });
        case 'stats':
          return ok(stats);
        case 'config.get':
          return ok({ config: readConfig() });
        case 'config.patch':
        case 'config.set': {
          const next = frame.method === 'config.set' ? JSON.parse(frame.params.raw) : { ...readConfig(), ...JSON.parse(frame.params.raw) };
          writeFileSync(configPath, JSON.stringify(next, null, 2));
          return ok({ ok: true, config: next });
        }
        case 'agent':
          // Two answers under one id, as OpenClaw's `agent` gives them: accepted, then the final result.
          ok({ runId: 'run-1', status: 'accepted' });
          return setTimeout(() => ok({ runId: 'run-1', status: 'ok', result: { text: frame.params?.message ?? '' } }), 50);
        case 'accept-only':
          // One "accepted" answer and nothing after it (as `chat.send` answers).
          return ok({ runId: 'run-2', status: 'accepted' });
        case 'crash':
          ok({ crashing: true });
          return setTimeout(() => process.exit(3), 20);
        case 'restart':
          ok({ restarting: true });
          for (const client of wss.clients) {
            client.send(JSON.stringify({ type: 'event', event: 'shutdown', payload: { reason: 'restart', restartExpectedMs: 100 } }));
            client.close(1012, 'service restart');
          }
          return;
        default:
          return send({
            type: 'res',
            id: frame.id,
            ok: false,
            error: { code: 'INVALID_REQUEST', message: `unknown method ${frame.method}` },
          });
      }
    });
  });
}, fake.startDelayMs ?? 0);
