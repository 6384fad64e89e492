import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway, GatewayRequestError } from '@openclaw-mt/gateway';
import { startGateway } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function connectAs(tenantId: string, options: Parameters<typeof startGateway>[0] = {}) {
  const started = await startGateway(options);
  stops.push(started.stop);
  const { token } = await started.manager.tokens.create(tenantId);
  const connection = await connectGateway({ url: started.url, token });
  return { ...started, connection, token };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayRequestError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('workspace runtime', () => {
  test('workspace files: write, read (utf8 and base64), list and remove, within the workspace area only', async () => {
    const { connection } = await connectAs('alice');
    await connection.request('workspace.write', { name: 'notes/today.md', content: 'hello' });
    expect(await connection.request('workspace.read', { name: 'notes/today.md' })).toMatchObject({ content: 'hello', size: 5 });
    await connection.request('workspace.write', {
      name: 'bin.dat',
      content: Buffer.from([0, 255, 1]).toString('base64'),
      encoding: 'base64',
    });
    expect(await connection.request('workspace.read', { name: 'bin.dat', encoding: 'base64' })).toMatchObject({ content: 'AP8B', size: 3 });
    const listed = await connection.request<{ files: Array<{ name: string }> }>('workspace.list');
    expect(listed.files.map((file) => file.name)).toEqual(expect.arrayContaining(['AGENTS.md', 'SOUL.md', 'bin.dat', 'notes/today.md']));
    expect(await connection.request('workspace.remove', { name: 'bin.dat' })).toEqual({ name: 'bin.dat', removed: true });
    expect(await codeOf(connection.request('workspace.read', { name: 'bin.dat' }))).toBe('NOT_FOUND');
    connection.close();
  });

  test('chat.send answers through the agent, emits a chat event and appends to the transcript', async () => {
    const { connection } = await connectAs('bob');
    const events: unknown[] = [];
    connection.onEvent((event) => events.push(event));
    const reply = await connection.request<{ reply: string; runId: string }>('chat.send', { message: 'hi' });
    expect(reply.reply).toBe('You said: hi');
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'chat', payload: expect.objectContaining({ runId: reply.runId, state: 'final' }) }),
    );
    await connection.request('chat.send', { message: 'again' });
    const history = await connection.request<{ messages: Array<{ role: string; content: string }> }>('chat.history');
    expect(history.messages.map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:hi',
      'assistant:You said: hi',
      'user:again',
      'assistant:You said: again',
    ]);
    expect(await connection.request('sessions.list')).toEqual({ sessions: [expect.objectContaining({ key: 'main' })] });
    connection.close();
  });

  test('a pluggable agent sees the history and the tenant config', async () => {
    const { createWorkspaceRuntime } = await import('@openclaw-mt/gateway');
    const runtime = createWorkspaceRuntime({ agent: (turn) => `${turn.config.persona}:${turn.history.length}:${turn.message}` });
    const { connection } = await connectAs('cara', { gateway: { runtime }, manager: { defaults: { persona: 'pirate' } } });
    await connection.request('chat.send', { message: 'one' });
    expect((await connection.request<{ reply: string }>('chat.send', { message: 'two' })).reply).toBe('pirate:2:two');
    connection.close();
  });

  test('config.get returns the merged config with secret-named values redacted', async () => {
    const { connection } = await connectAs('dee', {
      manager: { defaults: { model: 'm', providers: { openai: { apiKey: 'sk-operator-secret' } } } },
    });
    const result = await connection.request<{
      config: { model: string; providers: { openai: { apiKey: string } } };
      version: number;
    }>('config.get');
    expect(result.config.model).toBe('m');
    expect(result.config.providers.openai.apiKey).toBe('[redacted]');
    connection.close();
  });

  test('unknown methods and unknown params are refused with BAD_REQUEST', async () => {
    const { connection } = await connectAs('eve');
    expect(await codeOf(connection.request('no.such.method'))).toBe('BAD_REQUEST');
    expect(await codeOf(connection.request('workspace.read', { name: 'AGENTS.md', extra: 1 }))).toBe('BAD_REQUEST');
    expect(await codeOf(connection.request('connect', {}))).toBe('BAD_REQUEST');
    connection.close();
  });
});

describe('isolation probes over the wire', () => {
  test('traversal, absolute, encoded, Unicode and NUL names are refused with PATH_INVALID', async () => {
    const { connection, manager } = await connectAs('mallory');
    const victim = await manager.acquire('victim');
    await victim.workspace.write('workspace/secret.md', 'victim data');
    victim.release();
    const names = [
      '../victim/workspace/secret.md',
      '../../victim/workspace/secret.md',
      '/etc/passwd',
      '..%2f..%2fvictim%2fworkspace%2fsecret.md',
      '%2e%2e/%2e%2e/victim/workspace/secret.md',
      '\uff0e\uff0e/victim/workspace/secret.md',
      '..\\..\\victim\\workspace\\secret.md',
      'secret.md\u0000.txt',
      'C:\\Windows\\win.ini',
      '.openclaw-mt/template.json',
    ];
    for (const name of names) {
      for (const [method, params] of [
        ['workspace.read', { name }],
        ['workspace.write', { name, content: 'x' }],
        ['workspace.remove', { name }],
        ['workspace.list', { prefix: name }],
      ] as const) {
        expect(await codeOf(connection.request(method, params)), `${method} ${JSON.stringify(name)}`).toBe('PATH_INVALID');
      }
    }
    const check = await manager.acquire('victim');
    expect(new TextDecoder().decode(await check.workspace.read('workspace/secret.md'))).toBe('victim data');
    check.release();
    connection.close();
  });

  test('another tenant’s id in any field is refused, and session keys cannot name other paths', async () => {
    const { connection } = await connectAs('mallory');
    const probes: Array<[string, Record<string, unknown>]> = [
      ['workspace.read', { name: 'AGENTS.md', tenantId: 'victim' }],
      ['workspace.write', { name: 'x.md', content: 'x', tenant: 'victim' }],
      ['config.get', { tenantId: 'victim' }],
      ['chat.send', { message: 'hi', sessionKey: '../../victim/sessions/main' }],
      ['chat.history', { sessionKey: '../victim' }],
      ['chat.history', { sessionKey: 'main', userId: 'victim' }],
    ];
    for (const [method, params] of probes) expect(await codeOf(connection.request(method, params)), method).toBe('BAD_REQUEST');
    connection.close();
  });
});

describe('quotas', () => {
  test('concurrent connections per tenant: the one over quota gets a retryable QUOTA_EXCEEDED and close 1013', async () => {
    const started = await startGateway({ gateway: { quotas: { connections: 2 } } });
    stops.push(started.stop);
    const { token } = await started.manager.tokens.create('q');
    const open = [await connectGateway({ url: started.url, token }), await connectGateway({ url: started.url, token })];
    let error: GatewayRequestError | undefined;
    try {
      await connectGateway({ url: started.url, token });
    } catch (caught) {
      error = caught as GatewayRequestError;
    }
    expect(error?.code).toBe('QUOTA_EXCEEDED');
    expect(error?.shape.retryable).toBe(true);
    expect(error?.closeCode).toBe(1013);
    open[0]!.close();
    await open[0]!.closed;
    const again = await connectGateway({ url: started.url, token });
    again.close();
    open[1]!.close();
  });

  test('a tenant config can raise its own quota over the operator default', async () => {
    const started = await startGateway({ gateway: { quotas: { connections: 1 } } });
    stops.push(started.stop);
    await started.manager.stores.configs.set!('vip', { config: { quotas: { connections: 3 } } });
    const { token } = await started.manager.tokens.create('vip');
    const open = await Promise.all([1, 2, 3].map(() => connectGateway({ url: started.url, token })));
    expect(started.gateway.connectedTenants()).toEqual([{ tenantId: 'vip', connections: 3 }]);
    for (const connection of open) connection.close();
  });

  test('requests per minute: excess requests get RATE_LIMITED with retryAfterMs; another tenant is unaffected', async () => {
    const started = await startGateway({ gateway: { quotas: { requestsPerMinute: 20 } } });
    stops.push(started.stop);
    const flood = await connectGateway({ url: started.url, token: (await started.manager.tokens.create('flooder')).token });
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => flood.request('health')));
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as GatewayRequestError).code === 'RATE_LIMITED');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    expect(limited).toHaveLength(180);
    expect((limited[0] as PromiseRejectedResult).reason.shape.retryAfterMs).toBeGreaterThan(0);
    // The flood costs the flooder only: another tenant still handshakes and is served.
    const calm = await connectGateway({ url: started.url, token: (await started.manager.tokens.create('calm')).token });
    expect(await calm.request('health')).toMatchObject({ ok: true, tenantId: 'calm' });
    flood.close();
    calm.close();
  });

  test('workspace bytes: a write over the quota is refused and changes nothing', async () => {
    const { connection } = await connectAs('small', { gateway: { quotas: { workspaceBytes: 4_096 } } });
    await connection.request('workspace.write', { name: 'a.md', content: 'x'.repeat(1_000) });
    expect(await codeOf(connection.request('workspace.write', { name: 'b.md', content: 'x'.repeat(4_000) }))).toBe('QUOTA_EXCEEDED');
    expect(await codeOf(connection.request('workspace.read', { name: 'b.md' }))).toBe('NOT_FOUND');
    connection.close();
  });
});
