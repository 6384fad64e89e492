import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './support/client.js';
import { chat, eventually, type Harness, startHarness } from './support/harness.js';

// A request without a valid credential of the right tenant is refused with 401 and a coded error, and never
// reaches a provider.

describe('cell credentials', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'ocmt-model-sockets-'));
  });
  afterAll(async () => {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const send = (headers: Record<string, string>, socketPath?: string) =>
    call(socketPath === undefined ? h.origin : undefined, '/openai/chat/completions', {
      body: chat(),
      headers,
      ...(socketPath === undefined ? {} : { socketPath }),
    });

  it('are 64 characters with a 256-bit secret, different every time, and never stored as given', () => {
    const a = h.gateway.issue('alice');
    const b = h.gateway.issue('alice');
    expect(a.credential).toMatch(/^ocmg_[A-Za-z0-9_-]{59}$/);
    expect(a.credential).not.toBe(b.credential);
    expect(a.tenantId).toBe('alice');
    expect(a.credential).toContain(a.id);
    a.revoke();
    b.revoke();
  });

  it('refuses a missing, malformed, forged, revoked or other-tenant credential with 401 before any provider sees it', async () => {
    const alice = h.gateway.issue('alice');
    const revoked = h.gateway.issue('alice');
    revoked.revoke();
    const forged = `${alice.credential.slice(0, -1)}${alice.credential.endsWith('A') ? 'B' : 'A'}`;
    const before = h.upstream.seen.length;
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'TOKEN_MALFORMED'],
      [{ authorization: 'Bearer not-a-credential' }, 'TOKEN_UNKNOWN'],
      [{ authorization: `Bearer ${h.keys.openai}` }, 'TOKEN_UNKNOWN'],
      [{ authorization: `Bearer ${forged}` }, 'TOKEN_UNKNOWN'],
      [{ authorization: `Bearer ${revoked.credential}` }, 'TOKEN_UNKNOWN'],
      [{ authorization: `Basic ${Buffer.from(`x:${alice.credential}`).toString('base64')}` }, 'TOKEN_MALFORMED'],
      [{ 'x-api-key': `${alice.credential}x` }, 'TOKEN_UNKNOWN'],
    ];
    for (const [headers, code] of cases) {
      const answer = await send(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
      expect(answer.json(), JSON.stringify(headers)).toMatchObject({ error: { code, retryable: false } });
    }
    expect(h.upstream.seen.length).toBe(before);
    // The valid one works in any of the headers a provider SDK uses.
    const forms: Array<Record<string, string>> = [
      { authorization: `Bearer ${alice.credential}` },
      { 'x-api-key': alice.credential },
      { 'x-goog-api-key': alice.credential },
      { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': alice.credential },
    ];
    for (const headers of forms) expect((await send(headers)).status).toBe(200);
    alice.revoke();
    expect((await send({ authorization: `Bearer ${alice.credential}` })).status).toBe(401);
  });

  it('revokeTenant revokes every credential of that tenant and no other', async () => {
    const one = h.gateway.issue('carol');
    const two = h.gateway.issue('carol');
    const dave = h.gateway.issue('dave');
    expect(h.gateway.revokeTenant('carol')).toBe(2);
    expect((await send({ authorization: `Bearer ${one.credential}` })).status).toBe(401);
    expect((await send({ authorization: `Bearer ${two.credential}` })).status).toBe(401);
    expect((await send({ authorization: `Bearer ${dave.credential}` })).status).toBe(200);
    expect(h.gateway.revokeTenant('carol')).toBe(0);
    dave.revoke();
  });

  it('a reserved credential reaches no provider until assigned (its requests held and reported), then counts for its tenant only; it is assigned once', async () => {
    const before = h.upstream.seen.length;
    const reserved = h.gateway.reserve();
    expect(reserved.credential).toMatch(/^ocmg_[A-Za-z0-9_-]{59}$/);
    // Held unanswered, and reported to whoever waits for it: a pre-booted cell's warm-up reached its model call.
    const reported = reserved.nextRequest();
    let answered = false;
    const held = request(`${h.origin}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reserved.credential}`, 'content-type': 'application/json' },
    });
    held.on('response', () => (answered = true)).on('error', () => undefined);
    held.end(JSON.stringify(chat()));
    await reported;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    held.destroy();
    expect(h.upstream.seen.length).toBe(before);
    // A waiter that gives up is let go.
    const giveUp = new AbortController();
    const abandoned = reserved.nextRequest(giveUp.signal);
    giveUp.abort(new Error('given up'));
    await expect(abandoned).rejects.toThrow('given up');
    expect(() => reserved.assign('../etc')).toThrow(expect.objectContaining({ code: 'TENANT_ID_INVALID' }));
    reserved.assign('erin');
    expect((await send({ authorization: `Bearer ${reserved.credential}` })).status).toBe(200);
    expect(h.gateway.usage('erin').requests).toBeGreaterThan(0);
    expect(() => reserved.assign('frank')).toThrow();
    await expect(reserved.nextRequest()).rejects.toThrow('no longer reserved');
    expect(h.gateway.revokeTenant('erin')).toBe(1);
    expect((await send({ authorization: `Bearer ${reserved.credential}` })).status).toBe(401);
    // Revoked before it was assigned: assigning it later gives nobody anything.
    const dropped = h.gateway.reserve();
    dropped.revoke();
    dropped.assign('gina');
    expect((await send({ authorization: `Bearer ${dropped.credential}` })).status).toBe(401);
  });

  it('answers a held request of a reserved credential 503 once `reservedHoldMs` has passed; no provider sees it', async () => {
    await expect(startHarness({ reservedHoldMs: 0 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const short = await startHarness({ reservedHoldMs: 300 });
    try {
      const reserved = short.gateway.reserve();
      const reported = reserved.nextRequest();
      const started = performance.now();
      const answer = await call(short.origin, '/openai/chat/completions', {
        body: chat(),
        headers: { authorization: `Bearer ${reserved.credential}` },
      });
      await reported;
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(answer.status).toBe(503);
      expect(answer.json()).toMatchObject({ error: { code: 'BACKEND_UNAVAILABLE' } });
      expect(short.upstream.seen).toEqual([]);
    } finally {
      await short.stop();
    }
  });

  it('refuses a tenant id core’s rules refuse', () => {
    expect(() => h.gateway.issue('../etc')).toThrow(expect.objectContaining({ code: 'TENANT_ID_INVALID' }));
  });

  it('a per-tenant Unix socket (0600 by default) takes only that tenant’s credential', async () => {
    const path = join(dir, 'alice.sock');
    const socket = await h.gateway.listenFor('alice', path);
    try {
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const alice = h.gateway.issue('alice');
      const bob = h.gateway.issue('bob');
      expect((await send({ authorization: `Bearer ${alice.credential}` }, path)).status).toBe(200);
      expect(h.upstream.seen.at(-1)!.headers.authorization).toBe(`Bearer ${h.keys.openai}`);
      // Bob's credential is valid — on the shared listener — but this socket is Alice's.
      const refused = await send({ authorization: `Bearer ${bob.credential}` }, path);
      expect(refused.status).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: 'TOKEN_UNKNOWN' } });
      expect((await send({}, path)).status).toBe(401);
      expect(h.gateway.usage('alice').requests).toBeGreaterThan(0);
      expect(h.gateway.usage('bob').requests).toBe(0);
    } finally {
      await socket.close();
    }
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('closing a tenant socket lets the request in flight finish, then does not wait on its kept-alive connection', async () => {
    const path = join(dir, 'keepalive.sock');
    const socket = await h.gateway.listenFor('alice', path);
    const { credential: own } = h.gateway.issue('alice');
    h.upstream.behaviours.set('closing', { kind: 'gated', chunks: 1 });
    const agent = new Agent({ keepAlive: true });
    const answered = new Promise<string>((resolve, reject) => {
      const body = JSON.stringify(chat('closing', { stream: true }));
      const req = request(
        {
          socketPath: path,
          path: '/openai/chat/completions',
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${own}`, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    await eventually(() => h.upstream.seen.at(-1)?.body.includes('"closing"') === true, 'the request to reach the provider');
    const closing = socket.close();
    h.upstream.release();
    h.upstream.release();
    expect(await answered).toContain('[DONE]');
    // The connection is now idle and kept alive: closing must not wait out the drain timeout (10 s by default).
    const closed = await Promise.race([
      closing.then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open'), 5_000)),
    ]);
    expect(closed).toBe('closed');
    agent.destroy();
  });

  it('closing a tenant socket with drain: false cuts a held request at once (a pre-booted cell being claimed)', async () => {
    const path = join(dir, 'claimed.sock');
    const socket = await h.gateway.listenFor('warm-1', path);
    const reserved = h.gateway.reserve();
    const reported = reserved.nextRequest();
    const before = h.upstream.seen.length;
    // Held for the gateway's `reservedHoldMs` (60 s here), longer than its drain timeout (10 s): a drain would wait.
    const held = new Promise<string>((resolve) => {
      const req = request({
        socketPath: path,
        path: '/openai/chat/completions',
        method: 'POST',
        headers: { authorization: `Bearer ${reserved.credential}`, 'content-type': 'application/json' },
      });
      req.on('response', (response) => resolve(`answered ${response.statusCode}`)).on('error', (error) => resolve(`cut: ${error.message}`));
      req.end(JSON.stringify(chat()));
    });
    await reported;
    reserved.assign('erin');
    await socket.close({ drain: false });
    expect(await held).toMatch(/^cut: /);
    expect(h.upstream.seen.length).toBe(before);
    expect(h.gateway.stats().inFlight).toBe(0);
  });

  it('sets the socket’s mode and owner as asked (0660, group of the sandboxed cell)', async () => {
    const path = join(dir, 'bob.sock');
    const asRoot = process.getuid?.() === 0;
    const socket = await h.gateway.listenFor('bob', path, { mode: 0o660, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    try {
      const info = await stat(path);
      expect(info.mode & 0o777).toBe(0o660);
      if (asRoot) expect([info.uid, info.gid]).toEqual([65534, 65534]);
      const bob = h.gateway.issue('bob');
      expect((await send({ authorization: `Bearer ${bob.credential}` }, path)).status).toBe(200);
    } finally {
      await socket.close();
    }
    await expect(h.gateway.listenFor('bob', join(dir, 'wide.sock'), { mode: 0o666 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('replaces a stale socket file, refuses a live socket or a regular file', async () => {
    const stale = join(dir, 'stale.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(stale, resolve));
    // A live listener is there: refused.
    await expect(h.gateway.listenFor('alice', stale)).rejects.toMatchObject({ code: 'CONFLICT' });
    // Closing a net server removes its file; leave a stale socket file behind instead, as a crash would.
    const { spawnSync } = await import('node:child_process');
    const orphan = join(dir, 'orphan.sock');
    spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(orphan)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect((await stat(orphan)).isSocket()).toBe(true);
    const socket = await h.gateway.listenFor('alice', orphan);
    await socket.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const file = join(dir, 'file.sock');
    await writeFile(file, 'not a socket');
    await expect(h.gateway.listenFor('alice', file)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('a shared Unix socket listener identifies the tenant by credential alone', async () => {
    const path = join(dir, 'shared.sock');
    await h.gateway.listen({ path });
    const carol = h.gateway.issue('carol');
    expect((await send({ authorization: `Bearer ${carol.credential}` }, path)).status).toBe(200);
    expect((await send({ authorization: 'Bearer nope' }, path)).status).toBe(401);
  });

  it('listens on loopback TCP only', async () => {
    await expect(h.gateway.listen({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
