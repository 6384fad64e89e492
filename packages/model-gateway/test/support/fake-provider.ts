import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/** One request as the fake provider received it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The answer was cut before it ended (the gateway aborted upstream). */
  aborted: boolean;
}

/** What a test can make the fake do for one request (by the `model` it names). */
export type Behaviour =
  | { kind: 'answer' }
  /** Streams `chunks` events, each only after the test calls `release()`. */
  | { kind: 'gated'; chunks: number }
  /** Never answers. */
  | { kind: 'silent' }
  /** Answers `status` with a body echoing the key it was sent. */
  | { kind: 'error'; status: number }
  /** Answers JSON gzipped, whatever the request's accept-encoding. */
  | { kind: 'gzip' }
  /** Streams `bytes` of SSE as fast as the socket takes it, recording backpressure. */
  | { kind: 'flood'; bytes: number };

/** A fake upstream for OpenAI chat completions, Anthropic messages and Google generative AI. */
export interface FakeProvider {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  seen: SeenRequest[];
  /** Tokens the fake reported per request, in order (what metering must add up to). */
  served: Array<{ inputTokens: number; outputTokens: number }>;
  /** Behaviour by model name (default: answer). */
  behaviours: Map<string, Behaviour>;
  /** Lets the next gated chunk go. */
  release(): void;
  /** Bytes a flood has written so far, whether the socket ever pushed back, and whether it wrote everything. */
  flood: { written: number; pushedBack: boolean; finished: boolean };
  close(): Promise<void>;
}

const sse = (data: unknown, event?: string) => `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;

/** Usage the fake reports: made from the request's size, so each request differs. */
function usageFor(body: string): { inputTokens: number; outputTokens: number } {
  return { inputTokens: 10 + (body.length % 17), outputTokens: 5 + (body.length % 7) };
}

/** Starts the fake on a free loopback port. */
export async function startFakeProvider(): Promise<FakeProvider> {
  const seen: SeenRequest[] = [];
  const served: FakeProvider['served'] = [];
  const behaviours = new Map<string, Behaviour>();
  const gates: Array<() => void> = [];
  let released = 0;
  const flood = { written: 0, pushedBack: false, finished: false };
  const waitGate = () => {
    if (released === 0) return new Promise<void>((resolve) => gates.push(resolve));
    released--;
    return Promise.resolve();
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const record: SeenRequest = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body, aborted: false };
      seen.push(record);
      response.on('close', () => {
        if (!response.writableFinished) record.aborted = true;
      });
      let parsed: { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean } } = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // GET requests have no body.
      }
      const url = request.url ?? '';
      const googleModel = /\/models\/([^/:]+):/.exec(url)?.[1];
      const model = parsed.model ?? googleModel ?? '';
      const behaviour = behaviours.get(model) ?? { kind: 'answer' };
      const key = String(request.headers.authorization ?? request.headers['x-api-key'] ?? request.headers['x-goog-api-key'] ?? '');
      if (behaviour.kind === 'silent') return;
      if (behaviour.kind === 'error') {
        const masked = `${key.slice(0, 14)}****${key.slice(-4)}`;
        response.writeHead(behaviour.status, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ error: { message: `Incorrect API key provided: ${masked}. You sent: ${key}`, type: 'invalid_request_error' } }),
        );
        return;
      }
      if (request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }));
        return;
      }
      const usage = usageFor(body);
      served.push(usage);
      void answer(url, parsed, usage, behaviour, response);
    });
  });

  async function answer(
    url: string,
    parsed: { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean } },
    usage: { inputTokens: number; outputTokens: number },
    behaviour: Behaviour,
    response: ServerResponse,
  ): Promise<void> {
    const gated = behaviour.kind === 'gated';
    const count = gated ? behaviour.chunks : 3;
    const pace = () => (gated ? waitGate() : Promise.resolve());
    if (behaviour.kind === 'gzip') {
      const body = gzipSync(
        JSON.stringify({ choices: [], usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens } }),
      );
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
      response.end(body);
      return;
    }
    if (behaviour.kind === 'flood') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const line = Buffer.from(sse({ choices: [{ delta: { content: 'x'.repeat(1000) } }] }));
      while (flood.written < behaviour.bytes && !response.destroyed) {
        const ok = response.write(line);
        flood.written += line.length;
        if (!ok) {
          flood.pushedBack = true;
          await new Promise<void>((resolve) => {
            const go = () => {
              response.off('drain', go);
              response.off('close', go);
              resolve();
            };
            response.on('drain', go);
            response.on('close', go);
          });
        }
      }
      flood.finished = flood.written >= behaviour.bytes;
      response.end();
      return;
    }
    if (url.includes('/chat/completions')) {
      const id = 'chatcmpl-fake';
      if (!parsed.stream) {
        response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'upstream=1', 'x-request-id': 'req-1' });
        response.end(
          JSON.stringify({
            id,
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.' }, finish_reason: 'stop' }],
            usage: {
              prompt_tokens: usage.inputTokens,
              completion_tokens: usage.outputTokens,
              total_tokens: usage.inputTokens + usage.outputTokens,
            },
          }),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.flushHeaders();
      for (let i = 0; i < count; i++) {
        await pace();
        if (response.destroyed) return;
        response.write(
          sse({
            id,
            object: 'chat.completion.chunk',
            choices: [{ index: 0, delta: { content: `part ${i} ` }, finish_reason: null }],
            usage: null,
          }),
        );
      }
      await pace();
      if (response.destroyed) return;
      if (parsed.stream_options?.include_usage) {
        response.write(
          sse({
            id,
            object: 'chat.completion.chunk',
            choices: [],
            usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens },
          }),
        );
      }
      response.end('data: [DONE]\n\n');
      return;
    }
    if (url.endsWith('/responses')) {
      const done = {
        type: 'response.completed',
        response: { id: 'resp_fake', status: 'completed', usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens } },
      };
      if (!parsed.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(done.response));
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(
        sse({ type: 'response.created', response: { id: 'resp_fake', status: 'in_progress', usage: null } }, 'response.created'),
      );
      for (let i = 0; i < count; i++) {
        await pace();
        if (response.destroyed) return;
        response.write(sse({ type: 'response.output_text.delta', delta: `part ${i} ` }, 'response.output_text.delta'));
      }
      response.end(sse(done, 'response.completed'));
      return;
    }
    if (url.includes('/v1/messages')) {
      if (!parsed.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: 'msg_fake',
            type: 'message',
            role: 'assistant',
            content: [{ type: 'text', text: 'Hello.' }],
            usage: { input_tokens: usage.inputTokens - 4, cache_read_input_tokens: 4, output_tokens: usage.outputTokens },
          }),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(
        sse(
          {
            type: 'message_start',
            message: { id: 'msg_fake', usage: { input_tokens: usage.inputTokens - 3, cache_creation_input_tokens: 3, output_tokens: 1 } },
          },
          'message_start',
        ),
      );
      for (let i = 0; i < count; i++) {
        await pace();
        if (response.destroyed) return;
        response.write(
          sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `part ${i} ` } }, 'content_block_delta'),
        );
      }
      await pace();
      if (response.destroyed) return;
      response.write(
        sse({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: usage.outputTokens } }, 'message_delta'),
      );
      response.end(sse({ type: 'message_stop' }, 'message_stop'));
      return;
    }
    if (url.includes(':streamGenerateContent')) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < count; i++) {
        await pace();
        if (response.destroyed) return;
        const last = i === count - 1;
        response.write(
          sse({
            candidates: [{ content: { role: 'model', parts: [{ text: `part ${i} ` }] } }],
            usageMetadata: {
              promptTokenCount: usage.inputTokens,
              candidatesTokenCount: last ? usage.outputTokens - 2 : i + 1,
              ...(last ? { thoughtsTokenCount: 2 } : {}),
            },
          }),
        );
      }
      response.end();
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":{"message":"no such route"}}');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    served,
    behaviours,
    flood,
    release() {
      const next = gates.shift();
      if (next === undefined) released++;
      else next();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
