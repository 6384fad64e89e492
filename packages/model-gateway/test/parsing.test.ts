import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { USAGE_READERS } from '../src/metering/usage-shapes.js';
import { UsageTap } from '../src/metering/usage-tap.js';
import { parseTarget } from '../src/http/request-target.js';
import { redactKeyEcho } from '../src/proxy/key-echo.js';
import { withStreamUsage } from '../src/proxy/stream-usage.js';

const sse = (data: unknown, event?: string) => `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;

/** Splits `text` at the given fractions into chunks, as a network would. */
function split(text: string, cuts: number[]): Buffer[] {
  const bytes = Buffer.from(text);
  const points = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

const streams = {
  'openai-completions': [
    sse({ choices: [{ delta: { content: 'Hé, ça va ? 👋' } }], usage: null }),
    sse({ choices: [], usage: { prompt_tokens: 31, completion_tokens: 9 } }),
    'data: [DONE]\n\n',
  ].join(''),
  'openai-responses': [
    sse({ type: 'response.created', response: { usage: null } }, 'response.created'),
    sse({ type: 'response.output_text.delta', delta: 'hello' }, 'response.output_text.delta'),
    sse({ type: 'response.completed', response: { usage: { input_tokens: 31, output_tokens: 9 } } }, 'response.completed'),
  ].join(''),
  'anthropic-messages': [
    sse(
      { type: 'message_start', message: { usage: { input_tokens: 20, cache_read_input_tokens: 11, output_tokens: 1 } } },
      'message_start',
    ),
    sse({ type: 'content_block_delta', delta: { text: 'x'.repeat(3000) } }, 'content_block_delta'),
    sse({ type: 'message_delta', usage: { output_tokens: 9 } }, 'message_delta'),
  ]
    .join('')
    .replaceAll('\n', '\r\n'),
  'google-generative-ai': [
    sse({ candidates: [], usageMetadata: { promptTokenCount: 31, candidatesTokenCount: 2 } }),
    sse({ candidates: [], usageMetadata: { promptTokenCount: 31, candidatesTokenCount: 7, thoughtsTokenCount: 2 } }),
  ].join(''),
  ollama: [
    JSON.stringify({ message: { content: 'hi' }, done: false }),
    JSON.stringify({ done: true, prompt_eval_count: 31, eval_count: 9 }),
    '',
  ].join('\n'),
} as const;

describe('usage tap', () => {
  it('reads the same usage from every API’s stream however the network splits it (property)', () => {
    for (const [api, text] of Object.entries(streams)) {
      const type = api === 'ollama' ? 'application/x-ndjson' : 'text/event-stream; charset=utf-8';
      fc.assert(
        fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (cuts) => {
          const tap = new UsageTap(USAGE_READERS[api as keyof typeof streams], type);
          for (const chunk of split(text, cuts)) tap.push(chunk);
          expect(tap.finish(), api).toEqual({ inputTokens: 31, outputTokens: 9 });
        }),
      );
    }
  });

  it('reads usage from a whole JSON answer, a Google JSON array, and the tail of a very large answer', () => {
    const json = (api: keyof typeof USAGE_READERS, value: unknown) => {
      const tap = new UsageTap(USAGE_READERS[api], 'application/json');
      for (const chunk of split(JSON.stringify(value), [0.3, 0.6])) tap.push(chunk);
      return tap.finish();
    };
    expect(json('openai-completions', { choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })).toEqual({
      inputTokens: 3,
      outputTokens: 4,
    });
    expect(
      json('google-generative-ai', [
        { usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 } },
        { usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4 } },
      ]),
    ).toEqual({
      inputTokens: 3,
      outputTokens: 4,
    });
    const huge = { choices: [{ message: { content: '"{}'.repeat(2_000_000) } }], usage: { prompt_tokens: 5, completion_tokens: 6 } };
    expect(json('openai-completions', huge)).toEqual({ inputTokens: 5, outputTokens: 6 });
    expect(json('openai-completions', { choices: [] })).toEqual({});
  });

  it('never parses what cannot hold usage, and survives garbage', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (garbage) => {
        const tap = new UsageTap(USAGE_READERS['openai-completions'], 'text/event-stream');
        tap.push(Buffer.from(garbage));
        expect(() => tap.finish()).not.toThrow();
      }),
    );
    const tap = new UsageTap(USAGE_READERS['openai-completions'], 'text/plain');
    tap.push(Buffer.from(sse({ usage: { prompt_tokens: 1, completion_tokens: 1 } })));
    expect(tap.finish()).toEqual({});
  });
});

describe('request target', () => {
  it('accepts only paths that stay under the provider’s base (property)', () => {
    const segment = fc.oneof(
      fc.constantFrom('.', '..', '', '%2e', '%2F', 'a%00', 'chat', 'models', 'x:y', 'v1'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.string({ maxLength: 10 }), (segments, query) => {
        const target = parseTarget(`/${segments.join('/')}?${query}`);
        if ('problem' in target) return;
        const rest = target.path.split('/').slice(1);
        for (const part of rest) {
          expect(part).not.toBe('');
          expect(part).not.toBe('.');
          expect(part).not.toBe('..');
          expect(part).not.toContain('%');
          expect(part).not.toContain('\\');
        }
        expect(target.query.split('&').some((pair) => pair === 'key' || pair.startsWith('key='))).toBe(false);
      }),
    );
  });

  it('splits the provider id from the rest', () => {
    expect(parseTarget('/openai/chat/completions')).toEqual({ providerId: 'openai', path: '/chat/completions', query: '' });
    expect(parseTarget('/google/models/g:streamGenerateContent?alt=sse&key=abc')).toEqual({
      providerId: 'google',
      path: '/models/g:streamGenerateContent',
      query: 'alt=sse',
    });
    expect(parseTarget('/openai')).toEqual({ providerId: 'openai', path: '', query: '' });
    expect(parseTarget('http://evil/openai/x')).toHaveProperty('problem');
  });
});

describe('key echo redaction', () => {
  it('removes a key and any 12-character run of it, whatever surrounds it (property)', () => {
    const keyChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_');
    fc.assert(
      fc.property(
        fc.array(keyChar, { minLength: 24, maxLength: 80 }).map((chars) => chars.join('')),
        fc.nat(),
        fc.string({ maxLength: 20 }),
        (key, start, around) => {
          const from = start % (key.length - 12);
          const text = `${around} key ${key} masked ${key.slice(from, from + 12)}**** ${around}`;
          const out = redactKeyEcho(text, [key]);
          expect(out).not.toContain(key);
          expect(out).not.toContain(key.slice(from, from + 12));
        },
      ),
    );
    expect(redactKeyEcho('{"message":"model not found"}', ['sk-abcdefghijklmnop'])).toBe('{"message":"model not found"}');
  });
});

describe('stream usage', () => {
  it('asks for usage only in a streamed chat body that did not, keeping everything else', () => {
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));
    const asked = withStreamUsage(body({ model: 'm', stream: true, stream_options: { include_usage: false, other: 1 } }));
    expect(JSON.parse(asked.toString())).toEqual({ model: 'm', stream: true, stream_options: { include_usage: true, other: 1 } });
    const already = body({ stream: true, stream_options: { include_usage: true } });
    expect(withStreamUsage(already)).toBe(already);
    const plain = body({ stream: false });
    expect(withStreamUsage(plain)).toBe(plain);
    const garbage = Buffer.from('not json');
    expect(withStreamUsage(garbage)).toBe(garbage);
  });
});
