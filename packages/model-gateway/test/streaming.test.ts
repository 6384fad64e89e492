import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextChunk, open, rest } from './support/client.js';
import { chat, eventually, type Harness, message, startHarness } from './support/harness.js';

// Streams pass through as they come: each event reaches the cell before the provider has written the next,
// a slow cell slows the provider (backpressure), and a cell that goes away stops the provider.

describe('streaming', () => {
  let h: Harness;
  let credential: string;

  beforeAll(async () => {
    h = await startHarness();
    credential = h.gateway.issue('alice').credential;
  });
  afterAll(() => h.stop());

  it('delivers each OpenAI event before the provider writes the next (nothing is buffered)', async () => {
    h.upstream.behaviours.set('gated-openai', { kind: 'gated', chunks: 3 });
    const { response } = await open(h.origin, '/openai/chat/completions', {
      body: chat('gated-openai', { stream: true }),
      headers: { authorization: `Bearer ${credential}` },
    });
    // The headers arrived while the provider has not written a single event yet.
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    for (let i = 0; i < 3; i++) {
      h.upstream.release();
      const chunk = await nextChunk(response);
      expect(chunk).toContain(`part ${i} `);
      // The provider is still waiting for the next release: what we read came through alone.
      expect(chunk).not.toContain(`part ${i + 1} `);
    }
    h.upstream.release();
    const tail = await rest(response);
    expect(tail).toContain('"usage":{"prompt_tokens"');
    expect(tail).toContain('[DONE]');
  });

  it('delivers Anthropic events one by one too', async () => {
    h.upstream.behaviours.set('gated-claude', { kind: 'gated', chunks: 2 });
    const { response } = await open(h.origin, '/anthropic/v1/messages', {
      body: message('gated-claude', { stream: true }),
      headers: { 'x-api-key': credential, 'anthropic-version': '2023-06-01' },
    });
    expect(await nextChunk(response)).toContain('message_start');
    h.upstream.release();
    const first = await nextChunk(response);
    expect(first).toContain('part 0 ');
    expect(first).not.toContain('part 1 ');
    h.upstream.release();
    expect(await nextChunk(response)).toContain('part 1 ');
    h.upstream.release();
    expect(await rest(response)).toContain('message_stop');
  });

  it('a cell that goes away mid-stream aborts the provider’s answer, and what was seen is charged', async () => {
    h.upstream.behaviours.set('abandoned', { kind: 'gated', chunks: 5 });
    const before = h.gateway.usage('alice');
    const { req, response } = await open(h.origin, '/anthropic/v1/messages', {
      body: message('abandoned', { stream: true }),
      headers: { 'x-api-key': credential, 'anthropic-version': '2023-06-01' },
    });
    expect(await nextChunk(response)).toContain('message_start');
    h.upstream.release();
    expect(await nextChunk(response)).toContain('part 0 ');
    const upstreamRequest = h.upstream.seen.at(-1)!;
    expect(upstreamRequest.aborted).toBe(false);
    req.destroy();
    await eventually(() => upstreamRequest.aborted, 'the provider to see the abort');
    await eventually(() => (h.gateway.usage('alice').errors.aborted ?? 0) > (before.errors.aborted ?? 0), 'the abort to be counted');
    const after = h.gateway.usage('alice');
    // message_start reported the input tokens; the output never was: it is estimated from the events seen.
    expect(after.inputTokens - before.inputTokens).toBe(h.upstream.served.at(-1)!.inputTokens);
    expect(after.outputTokens - before.outputTokens).toBeGreaterThan(0);
    expect(after.estimated - before.estimated).toBe(1);
    // Release the fake's pending gates so it does not wait forever.
    for (let i = 0; i < 5; i++) h.upstream.release();
  });

  it('a cell that reads slowly slows the provider down (backpressure), and then gets every byte', async () => {
    const total = 32 * 2 ** 20;
    h.upstream.behaviours.set('flood', { kind: 'flood', bytes: total });
    const { response } = await open(h.origin, '/openai/chat/completions', {
      body: chat('flood', { stream: true }),
      headers: { authorization: `Bearer ${credential}` },
    });
    response.pause();
    await eventually(() => h.upstream.flood.pushedBack, 'the provider to be pushed back');
    // Give it time: with the cell not reading, the provider stays stuck far from the end.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stuckAt = h.upstream.flood.written;
    expect(stuckAt).toBeLessThan(total / 2);
    expect(h.upstream.flood.finished).toBe(false);
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    await new Promise<void>((resolve) => {
      response.on('end', () => resolve());
      response.resume();
    });
    expect(h.upstream.flood.finished).toBe(true);
    expect(received).toBe(h.upstream.flood.written);
  });
});
