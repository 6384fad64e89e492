import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelGateway } from '@openclaw-mt/model-gateway';
import { call } from './support/client.js';
import { startFakeProvider } from './support/fake-provider.js';
import { chat, content, fakeKey, type Harness, message, startHarness } from './support/harness.js';

// Each API shape against a fake provider on loopback: the provider sees the operator's key where its API
// wants it, on the right path, and nothing of the cell's credential.

describe('forwarding', () => {
  let h: Harness;
  let credential: string;

  beforeAll(async () => {
    h = await startHarness();
    credential = h.gateway.issue('alice').credential;
  });
  afterAll(() => h.stop());

  const lastSeen = () => h.upstream.seen.at(-1)!;
  const noCredential = () => expect(JSON.stringify(lastSeen().headers)).not.toContain(credential);

  it('OpenAI chat completions: Bearer operator key, the base URL path, the answer and its usage back', async () => {
    const answer = await call(h.origin, '/openai/chat/completions', {
      body: chat(),
      headers: {
        authorization: `Bearer ${credential}`,
        'openai-organization': 'org-chosen-by-the-tenant',
        connection: 'keep-alive, x-hop-one',
        'x-hop-one': 'connection-scoped',
        'proxy-authorization': 'Basic c2VjcmV0',
        te: 'trailers',
        cookie: 'session=1',
        'x-stainless-lang': 'js',
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: 'Hello.' } }] });
    const seen = lastSeen();
    expect(seen).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(seen.headers.authorization).toBe(`Bearer ${h.keys.openai}`);
    // Operator's static header wins over the tenant's choice of organisation.
    expect(seen.headers['openai-organization']).toBe('org-operator');
    for (const dropped of ['x-hop-one', 'proxy-authorization', 'te', 'cookie', 'x-api-key', 'x-goog-api-key'])
      expect(seen.headers[dropped], dropped).toBeUndefined();
    expect(seen.headers['x-stainless-lang']).toBe('js');
    expect(seen.headers['accept-encoding']).toBe('identity');
    expect(JSON.parse(seen.body)).toEqual(chat());
    noCredential();
    // Upstream cookies stay upstream; other headers reach the cell.
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(answer.headers['x-request-id']).toBe('req-1');
  });

  it('OpenAI streaming: asks for usage in the stream even when the cell did not', async () => {
    const answer = await call(h.origin, '/openai/chat/completions', {
      body: chat('gpt-fake', { stream: true, stream_options: { include_usage: false } }),
      headers: { authorization: `Bearer ${credential}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    expect(JSON.parse(lastSeen().body)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(answer.text).toContain('"prompt_tokens"');
    expect(answer.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('Anthropic messages (streaming): x-api-key operator key, /v1/messages, the cell’s anthropic headers kept', async () => {
    const answer = await call(h.origin, '/anthropic/v1/messages', {
      body: message('claude-fake', { stream: true }),
      headers: { 'x-api-key': credential, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' },
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('event: message_start');
    expect(answer.text).toContain('event: message_stop');
    const seen = lastSeen();
    expect(seen.url).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe(h.keys.anthropic);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.headers['anthropic-beta']).toBe('fine-grained-tool-streaming-2025-05-14');
    noCredential();
  });

  it('Google generative AI (streaming): x-goog-api-key operator key, the model path, a key in the query dropped', async () => {
    const answer = await call(h.origin, `/google/models/gemini-fake:streamGenerateContent?alt=sse&key=${credential}`, {
      body: content(),
      headers: { 'x-goog-api-key': credential },
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('usageMetadata');
    const seen = lastSeen();
    expect(seen.url).toBe('/v1beta/models/gemini-fake:streamGenerateContent?alt=sse');
    expect(seen.headers['x-goog-api-key']).toBe(h.keys.google);
    noCredential();
  });

  it('routes by provider id only: no path of the cell leaves the provider’s base URL or its API’s routes', async () => {
    const before = h.upstream.seen.length;
    const auth = { authorization: `Bearer ${credential}` };
    const cases: Array<[string, string, number, string]> = [
      ['POST', '/openai/../anthropic/v1/messages', 400, 'BAD_REQUEST'],
      ['POST', '/openai/%2e%2e/chat/completions', 400, 'BAD_REQUEST'],
      ['POST', '/openai//chat/completions', 400, 'BAD_REQUEST'],
      ['POST', '/openai/chat%2Fcompletions', 400, 'BAD_REQUEST'],
      ['GET', '/openai/files', 404, 'NOT_FOUND'],
      ['DELETE', '/openai/models/gpt-4o', 404, 'NOT_FOUND'],
      ['POST', '/openai/fine_tuning/jobs', 404, 'NOT_FOUND'],
      ['POST', '/anthropic/v1/complete', 404, 'NOT_FOUND'],
      ['POST', '/mistral/chat/completions', 404, 'NOT_FOUND'],
      ['POST', '/http:/evil.example/chat/completions', 400, 'BAD_REQUEST'],
    ];
    for (const [method, path, status, code] of cases) {
      const answer = await call(h.origin, path, { method, body: chat(), headers: auth });
      expect(answer.status, `${method} ${path}`).toBe(status);
      expect(answer.json<{ error: { code: string } }>().error.code, `${method} ${path}`).toBe(code);
    }
    const unknown = await call(h.origin, '/mistral/chat/completions', { body: chat(), headers: auth });
    expect(unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND', details: { reason: 'provider-unknown', provider: 'mistral' } } });
    expect(h.upstream.seen.length).toBe(before);
    // A GET the API has (models) is allowed.
    expect((await call(h.origin, '/openai/models', { headers: auth })).status).toBe(200);
    expect(lastSeen().url).toBe('/v1/models');
  });

  it('gives each provider block a cell needs: base URL at the gateway, the API, the credential as key', () => {
    expect(h.gateway.cellProviders(credential, `${h.origin}/`)).toEqual({
      openai: { baseUrl: `${h.origin}/openai`, api: 'openai-completions', apiKey: credential },
      anthropic: { baseUrl: `${h.origin}/anthropic`, api: 'anthropic-messages', apiKey: credential },
      google: { baseUrl: `${h.origin}/google`, api: 'google-generative-ai', apiKey: credential },
      responses: { baseUrl: `${h.origin}/responses`, api: 'openai-responses', apiKey: credential },
    });
  });
});

describe('tenant keys', () => {
  it("uses the tenant's own key and base URL from resolve, the operator's for everyone else", async () => {
    const operator = await startFakeProvider();
    const own = await startFakeProvider();
    const operatorKey = fakeKey('sk-operator');
    const bobKey = fakeKey('sk-bob');
    const calls: string[] = [];
    const gateway = createModelGateway({
      providers: { openai: { api: 'openai-completions', baseUrl: `${operator.origin}/v1`, apiKey: operatorKey } },
      resolve(tenantId, providerId) {
        calls.push(`${tenantId}/${providerId}`);
        return tenantId === 'bob' ? { apiKey: bobKey, baseUrl: `${own.origin}/compat/v1` } : undefined;
      },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const { origin } = await gateway.listen();
    try {
      const alice = gateway.issue('alice').credential;
      const bob = gateway.issue('bob').credential;
      expect((await call(origin, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${alice}` } })).status).toBe(
        200,
      );
      expect((await call(origin, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${bob}` } })).status).toBe(
        200,
      );
      expect(operator.seen.map((seen) => seen.headers.authorization)).toEqual([`Bearer ${operatorKey}`]);
      expect(own.seen.map((seen) => [seen.url, seen.headers.authorization])).toEqual([['/compat/v1/chat/completions', `Bearer ${bobKey}`]]);
      expect(calls).toEqual(['alice/openai', 'bob/openai']);
    } finally {
      await gateway.close();
      await operator.close();
      await own.close();
    }
  });

  it('refuses (503), never falls back to the operator’s key, when resolve fails', async () => {
    const upstream = await startFakeProvider();
    const gateway = createModelGateway({
      providers: { openai: { api: 'openai-completions', baseUrl: `${upstream.origin}/v1`, apiKey: fakeKey('sk-operator') } },
      resolve: async () => {
        throw new Error('backend down');
      },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const { origin } = await gateway.listen();
    try {
      const { credential } = gateway.issue('alice');
      const answer = await call(origin, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${credential}` } });
      expect(answer.status).toBe(503);
      expect(answer.json()).toMatchObject({ error: { code: 'BACKEND_UNAVAILABLE', details: { reason: 'key-unavailable' } } });
      expect(upstream.seen).toHaveLength(0);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('configuration', () => {
  it('refuses providers it cannot front, with the key at fault', () => {
    const make = (providers: Record<string, unknown>) => () => createModelGateway({ providers: providers as never });
    expect(make({ bedrock: { api: 'bedrock-converse-stream', baseUrl: 'https://bedrock.example' } })).toThrow(/providers\.bedrock\.api/);
    expect(make({ x: { api: 'openai-completions', baseUrl: 'ftp://example.com' } })).toThrow(/providers\.x\.baseUrl/);
    expect(make({ x: { api: 'openai-completions', baseUrl: 'https://user:pw@example.com/v1' } })).toThrow(/credentials do not belong/);
    expect(make({ 'a/b': { api: 'openai-completions', baseUrl: 'https://example.com' } })).toThrow(/providers\.a\/b/);
    expect(make({ x: { api: 'openai-completions', baseUrl: 'https://example.com', routes: ['POST chat'] } })).toThrow(
      /providers\.x\.routes/,
    );
    expect(make({ x: { api: 'openai-completions', baseUrl: 'https://example.com', headers: { host: 'evil' } } })).toThrow(
      /providers\.x\.headers\.host/,
    );
    expect(make({ x: { api: 'openai-completions', baseUrl: 'https://example.com', apiKey: 'a\r\nb' } })).toThrow(/providers\.x\.apiKey/);
    try {
      make({ x: { api: 'openai-completions', baseUrl: 'nope' } })();
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { key: 'providers.x.baseUrl' } });
    }
  });
});
