import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import {
  createHttpApiRoute,
  MAX_HOOKS_BODY_BYTES,
  MAX_V1_BODY_BYTES,
  parseOpenClawRuntimeSettings,
  type OpenClawRuntimeOptions,
} from '@openclaw-mt/runtime-openclaw';
import { connectRetrying, createFakeInstall, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';

// OpenClaw's HTTP surfaces through the front door, against fake cells that check the credential and
// config they get and echo the request (see fake-openclaw.mjs).

const quiet = createLogger({ level: Number(process.env.TEST_LOG_LEVEL ?? 0) });

/** What the fake cell echoes, or the front door's coded error. */
interface Reply {
  path?: string;
  headers?: Record<string, string | undefined>;
  bodyBytes?: number;
  name?: string;
  released?: boolean;
  error?: { code: string; retryable: boolean; details: Record<string, unknown> };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: Reply;
}

/** A plain HTTP request, so any header (`connection` included) goes out as written. */
function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(new URL(path, base), { method: options.method ?? 'POST', headers: options.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Reply = {};
        try {
          json = JSON.parse(text) as Reply;
        } catch {}
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

const chat = JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'hi' }] });

describe('OpenClaw HTTP APIs through the front door (fake cells)', () => {
  let install: { dir: string; cleanup: () => Promise<void> };
  let h: OpenClawHarness | undefined;
  let base = '';

  beforeAll(async () => {
    install = await createFakeInstall();
  });
  afterAll(async () => {
    await install.cleanup();
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  async function start(
    runtime: Partial<OpenClawRuntimeOptions> = {},
    quotas: { requestsPerMinute?: number } = {},
  ): Promise<OpenClawHarness> {
    h = await startOpenClawGateway({
      runtime: {
        install: install.dir,
        osUsers: false,
        ports: { first: 38_000, last: 38_999, stride: 8 },
        httpApis: { openai: true, responses: true, hooks: true },
        privileges: { admin: ['alice'] },
        logger: quiet,
        ...runtime,
      },
      gateway: (cells) => ({ tenantHttpRoutes: [createHttpApiRoute({ runtime: cells })], quotas, logger: quiet }),
    });
    base = h.url.replace(/^ws/, 'http');
    return h;
  }

  it('refuses a missing, wrong or URL-borne token with a coded error and starts nothing', async () => {
    const { runtime, manager } = await start();
    const alice = await h!.tenant('alice', { fake: { name: 'alice' } });
    const missing = await send(base, '/v1/chat/completions', { body: chat });
    expect(missing.status).toBe(401);
    expect(missing.json.error?.code).toBe('TOKEN_MALFORMED');
    const wrong = await send(base, '/v1/chat/completions', { headers: { authorization: `Bearer ${alice}x` }, body: chat });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error?.code).toMatch(/^TOKEN_/);
    const inUrl = await send(base, `/hooks/wake?token=${alice}`, { headers: { authorization: `Bearer ${alice}` }, body: '{}' });
    expect(inUrl.status).toBe(400);
    expect(inUrl.json.error?.details.reason).toBe('token-in-url');
    expect(runtime.cells()).toEqual([]);
    expect(manager.stats().activations).toBe(0);
  });

  it('counts HTTP failures in the same brute-force limiter as WebSocket logins', async () => {
    h = await startOpenClawGateway({
      runtime: { install: install.dir, osUsers: false, httpApis: { hooks: true }, logger: quiet },
      gateway: (cells) => ({
        tenantHttpRoutes: [createHttpApiRoute({ runtime: cells })],
        authRateLimit: { maxFailures: 2 },
        logger: quiet,
      }),
    });
    base = h.url.replace(/^ws/, 'http');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await send(base, '/hooks/wake', { headers: { 'x-openclaw-token': 'gt_nope' }, body: '{}' })).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it("forwards to the tenant's own cell with the cell's credential, never the tenant's token or client-only headers", async () => {
    const { runtime } = await start();
    const alice = await h!.tenant('alice', { fake: { name: 'alice' } });
    // A cold tenant: the request activates it and waits for its cell.
    const answer = await send(base, '/v1/chat/completions', {
      headers: {
        authorization: `Bearer ${alice}`,
        'content-type': 'application/json',
        connection: 'keep-alive, x-hop',
        'x-hop': 'hop',
        'x-openclaw-scopes': 'operator.admin',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        'x-openclaw-token': alice,
        'x-custom': 'kept',
      },
      body: chat,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-fake-cell']).toBe('yes');
    const echo = answer.json;
    expect(echo.name).toBe('alice');
    expect(echo.path).toBe('/v1/chat/completions');
    expect(echo.bodyBytes).toBe(Buffer.byteLength(chat));
    expect(echo.headers?.authorization).toBe(`Bearer ${runtime.cellEndpoint('alice')!.token}`);
    expect(echo.headers?.['x-custom']).toBe('kept');
    for (const gone of ['x-hop', 'x-openclaw-scopes', 'x-forwarded-for', 'x-forwarded-proto', 'x-openclaw-token'])
      expect(echo.headers?.[gone]).toBeUndefined();
    expect(JSON.stringify(echo)).not.toContain(alice);
    const models = await send(base, '/v1/models/openclaw', { method: 'GET', headers: { authorization: `Bearer ${alice}` } });
    expect(models.json.path).toBe('/v1/models/openclaw');
    const responses = await send(base, '/v1/responses', { headers: { authorization: `Bearer ${alice}` }, body: '{}' });
    expect(responses.json.name).toBe('alice');
  });

  it('serves /v1 only to admins, hooks to everyone, each tenant from its own cell', async () => {
    const { runtime } = await start();
    const alice = await h!.tenant('alice', { fake: { name: 'alice' } });
    const bob = await h!.tenant('bob', { fake: { name: 'bob' } });
    const refused = await send(base, '/v1/chat/completions', { headers: { authorization: `Bearer ${bob}` }, body: chat });
    expect(refused.status).toBe(403);
    expect(refused.json.error?.details).toMatchObject({ reason: 'privilege-required', privilege: 'admin' });
    expect(runtime.cells()).toEqual([]);
    const bobHook = await send(base, '/hooks/wake', { headers: { 'x-openclaw-token': bob }, body: '{"text":"bob"}' });
    expect(bobHook.status).toBe(200);
    expect(bobHook.json.name).toBe('bob');
    expect(bobHook.json.headers?.['x-openclaw-token']).toBeUndefined();
    expect(JSON.stringify(bobHook.json)).not.toContain(bob);
    // The hooks credential is the cell's own, not its gateway token.
    expect(bobHook.json.headers?.authorization).not.toBe(`Bearer ${runtime.cellEndpoint('bob')!.token}`);
    const aliceHook = await send(base, '/hooks/agent', { headers: { authorization: `Bearer ${alice}` }, body: '{"message":"a"}' });
    expect(aliceHook.json.name).toBe('alice');
    const aliceChat = await send(base, '/v1/chat/completions', { headers: { authorization: `Bearer ${alice}` }, body: chat });
    expect(aliceChat.json.name).toBe('alice');
    expect(
      runtime
        .cells()
        .map((cell) => cell.tenantId)
        .sort(),
    ).toEqual(['alice', 'bob']);
  });

  it('streams server-sent events chunk by chunk and pins the tenant meanwhile', async () => {
    const { manager } = await start();
    const alice = await h!.tenant('alice', { fake: { name: 'alice' } });
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openclaw', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    // The cell holds the rest back until released: this chunk arrives only if nothing buffers it.
    let seen = '';
    while (!seen.includes('data: one')) seen += decoder.decode((await reader.read()).value);
    expect(seen).not.toContain('two');
    await expect(manager.evict('alice')).rejects.toMatchObject({ code: 'TENANT_BUSY' });
    const release = await send(base, '/v1/models/release', { method: 'GET', headers: { authorization: `Bearer ${alice}` } });
    expect(release.json.released).toBe(true);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    expect(seen).toBe('data: one\n\ndata: two\n\ndata: [DONE]\n\n');
  });

  it('cuts a stream once its token is revoked, and lets go of the tenant', async () => {
    const { manager } = await start();
    await h!.tenant('alice', { fake: { name: 'alice' } });
    const { token, record } = await manager.tokens.create('alice');
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openclaw', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    while (!seen.includes('data: one')) seen += decoder.decode((await reader.read()).value);
    await manager.tokens.revoke(record.tokenHash);
    // The cell still holds the rest: the stream ends only because the front door cut it.
    const end = await reader.read().then(
      ({ done }) => (done ? 'finished' : 'more'),
      () => 'cut',
    );
    expect(end).toBe('cut');
    await vi.waitFor(() => expect(manager.stats().pinned).toBe(0));
    const refused = await send(base, '/v1/models', { method: 'GET', headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
  });

  it('refuses bodies over the cap with 413, counted as they stream', async () => {
    const { runtime } = await start();
    const alice = await h!.tenant('alice', { fake: { name: 'alice' } });
    const declared = await send(base, '/v1/chat/completions', {
      headers: { authorization: `Bearer ${alice}`, 'content-length': String(MAX_V1_BODY_BYTES + 1) },
    });
    expect(declared.status).toBe(413);
    expect(declared.json.error?.details.reason).toBe('body-too-large');
    // No length announced: the bytes are counted on their way to the cell.
    const streamed = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        new URL('/hooks/wake', base),
        { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'transfer-encoding': 'chunked' } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent <= MAX_HOOKS_BODY_BYTES + chunk.length && request.write(chunk)) sent += chunk.length;
        if (sent <= MAX_HOOKS_BODY_BYTES + chunk.length) request.once('drain', pump);
      };
      pump();
    });
    expect(streamed).toBe(413);
    expect(runtime.cells().map((cell) => cell.tenantId)).toEqual(['alice']);
  });

  it('keeps the hooks switch, token and path out of the tenant’s reach, and its mappings in it', async () => {
    await start();
    const bob = await h!.tenant('bob', { fake: { name: 'bob' } });
    const connection = await connectRetrying({ url: h!.url, token: bob });
    try {
      await expect(connection.request('config.patch', { raw: JSON.stringify({ hooks: { token: 'mine' } }) })).rejects.toMatchObject({
        shape: { details: { reason: 'config-locked' } },
      });
      await expect(
        connection.request('config.patch', {
          raw: JSON.stringify({ gateway: { http: { endpoints: { responses: { enabled: false } } } } }),
        }),
      ).rejects.toMatchObject({ shape: { details: { reason: 'config-locked' } } });
      await connection.request('config.patch', { raw: JSON.stringify({ hooks: { mappings: [{ match: { path: 'ping' } }] } }) });
    } finally {
      connection.close();
    }
  });

  it("applies the tenant's requests-per-minute quota", async () => {
    await start({}, { requestsPerMinute: 2 });
    const bob = await h!.tenant('bob', { fake: { name: 'bob' } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await send(base, '/hooks/wake', { headers: { 'x-openclaw-token': bob }, body: '{}' })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('answers 503 with Retry-After when a cold cell is not up within the wait', async () => {
    await start({ coldStartWaitMs: 200 });
    const bob = await h!.tenant('bob', { fake: { name: 'bob', startDelayMs: 30_000 } });
    const answer = await send(base, '/hooks/wake', { headers: { 'x-openclaw-token': bob }, body: '{}' });
    expect(answer.status).toBe(503);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    expect(answer.json.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
  });

  it('leaves disabled surfaces alone and refuses unknown settings', async () => {
    await start({ httpApis: { hooks: true } });
    const alice = await h!.tenant('alice', { fake: { name: 'alice' } });
    const answer = await send(base, '/v1/chat/completions', { headers: { authorization: `Bearer ${alice}` }, body: chat });
    // Not a tenant route: the front door's own answer for plain HTTP.
    expect(answer.status).toBe(426);
    expect(h!.runtime.cells()).toEqual([]);
    expect(() => parseOpenClawRuntimeSettings({ httpApis: { openai: true, graphql: true } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(parseOpenClawRuntimeSettings({ httpApis: { openai: true } }).httpApis).toEqual({ openai: true });
  });
});
