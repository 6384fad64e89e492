import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelGateway } from '@openclaw-mt/model-gateway';
import { call, nextChunk, open } from './support/client.js';
import { captureLogger, chat, eventually, fakeKey, type Harness, message, startHarness } from './support/harness.js';
import { startFakeProvider } from './support/fake-provider.js';

// Every failure is a coded JSON error with the right status; no key, credential or prompt reaches a log line
// or an error body.

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('errors', () => {
  let h: Harness;
  let credential: string;
  const allLines: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ upstreamTimeoutMs: 300, maxBodyBytes: 64 * 1024, drainTimeoutMs: 5_000 });
    credential = h.gateway.issue('alice').credential;
  });
  afterAll(async () => {
    await h.stop();
  });

  const auth = () => ({ authorization: `Bearer ${credential}` });

  it('passes a provider’s error status on, with any echo of the key redacted', async () => {
    h.upstream.behaviours.set('bad-key', { kind: 'error', status: 401 });
    const answer = await call(h.origin, '/openai/chat/completions', { body: chat('bad-key'), headers: auth() });
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    // The fake echoed the key whole and masked (its first 14 characters): neither survives.
    expect(answer.text).not.toContain(h.keys.openai);
    expect(answer.text).not.toContain(h.keys.openai.slice(0, 14));
    expect(answer.text).toContain('[redacted]');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.text));

    const anthropic = await call(h.origin, '/anthropic/v1/messages', { body: message('bad-key'), headers: { 'x-api-key': credential } });
    expect(anthropic.status).toBe(401);
    expect(anthropic.text).not.toContain(h.keys.anthropic);
    expect(anthropic.text).not.toContain(h.keys.anthropic.slice(0, 14));
  });

  it('answers 502 BACKEND_UNAVAILABLE when the provider cannot be reached', async () => {
    const port = await closedPort();
    const log = captureLogger();
    const gateway = createModelGateway({
      providers: { down: { api: 'openai-completions', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: fakeKey('sk-down') } },
      logger: log,
    });
    const { origin } = await gateway.listen();
    try {
      const { credential: own } = gateway.issue('alice');
      const answer = await call(origin!, '/down/chat/completions', { body: chat(), headers: { authorization: `Bearer ${own}` } });
      expect(answer.status).toBe(502);
      expect(answer.json()).toMatchObject({
        error: { code: 'BACKEND_UNAVAILABLE', retryable: true, details: { reason: 'upstream-unreachable', provider: 'down' } },
      });
      expect(gateway.usage('alice').errors).toEqual({ unreachable: 1 });
      expect(log.lines.some((line) => line.startsWith('warn') && line.includes('ECONNREFUSED'))).toBe(true);
      allLines.push(...log.lines);
    } finally {
      await gateway.close();
    }
  });

  it('answers 504 when the provider stays silent past the upstream timeout', async () => {
    h.upstream.behaviours.set('silent', { kind: 'silent' });
    const answer = await call(h.origin, '/openai/chat/completions', { body: chat('silent'), headers: auth() });
    expect(answer.status).toBe(504);
    expect(answer.json()).toMatchObject({
      error: { code: 'BACKEND_UNAVAILABLE', details: { reason: 'upstream-timeout', provider: 'openai' } },
    });
    const silent = h.upstream.seen.at(-1)!;
    await eventually(() => silent.aborted, 'the provider to see the request cut');
    expect(h.gateway.usage('alice').errors.timeout).toBe(1);
  });

  it('cuts a stream that goes silent mid-way (the cell sees the connection end, not a hang)', async () => {
    h.upstream.behaviours.set('stalls', { kind: 'gated', chunks: 3 });
    const { response } = await open(h.origin, '/openai/chat/completions', { body: chat('stalls', { stream: true }), headers: auth() });
    h.upstream.release();
    expect(await nextChunk(response)).toContain('part 0');
    const ended = await new Promise<string>((resolve) => {
      response.on('error', () => resolve('error'));
      response.on('close', () => resolve('close'));
      response.resume();
    });
    expect(['error', 'close']).toContain(ended);
    expect(response.complete).toBe(false);
    expect(h.gateway.usage('alice').errors.timeout).toBe(2);
    for (let i = 0; i < 3; i++) h.upstream.release();
  });

  it('answers 413 for a body over the cap, declared or streamed, without forwarding it', async () => {
    const before = h.upstream.seen.length;
    const big = chat('big', { padding: 'x'.repeat(70 * 1024) });
    const declared = await call(h.origin, '/openai/chat/completions', { body: big, headers: auth() });
    expect(declared.status).toBe(413);
    expect(declared.json()).toMatchObject({ error: { code: 'BAD_REQUEST', details: { reason: 'body-too-large', limit: 64 * 1024 } } });
    // Chunked, no content-length: counted as it streams (the OpenAI route reads it whole; the Anthropic one streams it).
    for (const path of ['/openai/chat/completions', '/anthropic/v1/messages']) {
      const status = await new Promise<number>((resolve, reject) => {
        const url = new URL(h.origin);
        const req = request({
          hostname: url.hostname,
          port: url.port,
          path,
          method: 'POST',
          agent: false,
          headers: { ...auth(), 'content-type': 'application/json' },
        });
        req.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        req.on('error', reject);
        const chunk = 'x'.repeat(16 * 1024);
        for (let i = 0; i < 6; i++) req.write(chunk);
        req.end();
      });
      expect(status, path).toBe(413);
    }
    expect(h.upstream.seen.length).toBe(before);
    expect(h.gateway.usage('alice').errors.too_large).toBe(3);
  });

  it('close() lets requests in flight finish, refuses new ones and stops listening', async () => {
    const log = captureLogger();
    const upstream = await startFakeProvider();
    const gateway = createModelGateway({
      providers: { openai: { api: 'openai-completions', baseUrl: `${upstream.origin}/v1`, apiKey: fakeKey('sk-close') } },
      logger: log,
      drainTimeoutMs: 5_000,
    });
    const { origin } = await gateway.listen();
    const { credential: own } = gateway.issue('alice');
    upstream.behaviours.set('slow', { kind: 'gated', chunks: 1 });
    const { response } = await open(origin!, '/openai/chat/completions', {
      body: chat('slow', { stream: true }),
      headers: { authorization: `Bearer ${own}` },
    });
    const closing = gateway.close();
    expect(() => gateway.issue('bob')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await expect(
      call(origin!, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${own}` } }),
    ).rejects.toThrow();
    upstream.release();
    upstream.release();
    let text = '';
    response.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    await new Promise<void>((resolve) => response.on('end', () => resolve()));
    expect(text).toContain('[DONE]');
    await closing;
    expect(gateway.stats().inFlight).toBe(0);
    expect(gateway.usage('alice').requests).toBe(1);
    allLines.push(...log.lines);
    await upstream.close();
  });

  it('a cell that leaves while its limits are being looked up is counted as aborted and never forwarded', async () => {
    let release!: () => void;
    const upstream = await startFakeProvider();
    const gateway = createModelGateway({
      providers: { openai: { api: 'openai-completions', baseUrl: `${upstream.origin}/v1`, apiKey: fakeKey('sk-slow') } },
      limitsFor: () => new Promise((resolve) => (release = () => resolve(undefined))),
      logger: captureLogger(),
    });
    const { origin } = await gateway.listen();
    try {
      const { credential: own } = gateway.issue('alice');
      const url = new URL(origin!);
      const req = request({
        hostname: url.hostname,
        port: url.port,
        path: '/openai/chat/completions',
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${own}` },
      });
      req.on('error', () => {});
      req.end(JSON.stringify(chat()));
      await eventually(() => gateway.stats().inFlight === 1, 'the request to arrive');
      req.destroy();
      await eventually(() => gateway.usage('alice').errors.aborted === 1, 'the abort to be counted');
      release();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(gateway.stats().inFlight).toBe(0);
      expect(upstream.seen).toHaveLength(0);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('never logs a key, a credential or a prompt (every line of every scenario above, at debug level)', () => {
    const lines = [...h.log.lines, ...allLines];
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((line) => line.startsWith('debug'))).toBe(true);
    const joined = lines.join('\n');
    for (const secret of [...Object.values(h.keys), credential]) {
      expect(joined).not.toContain(secret);
      expect(joined).not.toContain(secret.slice(-16));
    }
    expect(joined).not.toMatch(/ocmg_[A-Za-z0-9_-]{8}/);
    expect(joined).not.toMatch(/sk-[A-Za-z0-9_-]{8}/);
    expect(joined).not.toContain('prompt that must never be logged');
    expect(joined).not.toContain('capital of France');
  });
});
