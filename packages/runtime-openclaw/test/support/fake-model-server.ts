import { createServer, type Server } from 'node:http';
import type { OpenClawRuntimeOptions } from '@openclaw-mt/runtime-openclaw';
import type { AddressInfo } from 'node:net';

/** A local OpenAI-compatible model endpoint (`/v1/chat/completions`, streaming or not). */
export interface FakeModelServer {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  /** The chat completion requests received (parsed bodies). */
  requests: Array<{ model?: string; stream?: boolean; messages?: unknown[] }>;
  close(): Promise<void>;
}

type FakeModelRequest = FakeModelServer['requests'][number];

/** Starts a fake model on a free loopback port that answers every chat with `reply` (or what it returns for the request). */
export async function startFakeModelServer(
  reply: string | ((request: FakeModelRequest) => string) = 'Hello from the fake model.',
): Promise<FakeModelServer> {
  const requests: FakeModelServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url?.endsWith('/models')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', owned_by: 'test' }] }));
        return;
      }
      if (!request.url?.endsWith('/chat/completions') || request.method !== 'POST') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end('{"error":{"message":"not found"}}');
        return;
      }
      let parsed: FakeModelRequest = {};
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch {
        // Counted anyway.
      }
      requests.push(parsed);
      const content = typeof reply === 'string' ? reply : reply(parsed);
      const created = Math.floor(Date.now() / 1000);
      const usage = { prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 };
      if (parsed.stream) {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const chunk = (delta: object, finish: string | null, extra: object = {}) =>
          `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created, model: parsed.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
        response.write(chunk({ role: 'assistant', content }, null));
        response.write(chunk({}, 'stop', { usage }));
        response.end('data: [DONE]\n\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'chatcmpl-fake',
          object: 'chat.completion',
          created,
          model: parsed.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Operator defaults that point every cell's agent at the fake model at `baseUrl`; without one, the provider
 * has no endpoint or key of its own (the runtime points it at the model gateway).
 */
export function fakeModelOpenClawConfig(baseUrl?: string): NonNullable<OpenClawRuntimeOptions['config']> {
  return {
    models: {
      mode: 'merge',
      providers: {
        fake: {
          ...(baseUrl === undefined ? {} : { baseUrl, apiKey: 'fake-key' }),
          api: 'openai-completions',
          models: [
            {
              id: 'fake-model',
              name: 'Fake',
              reasoning: false,
              input: ['text'],
              cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 128_000,
              maxTokens: 4_096,
            },
          ],
        },
      },
    },
    agents: { defaults: { model: { primary: 'fake/fake-model' } } },
  };
}
