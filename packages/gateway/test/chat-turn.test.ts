import { afterEach, describe, expect, test } from 'vitest';
import {
  connectGateway,
  sendChatMessage,
  type GatewayConnection,
  type RuntimeSession,
  type SessionContext,
  type TenantRuntime,
} from '@openclaw-mt/gateway';
import { startGateway } from './support/harness.js';
import { failureOf } from './support/request-failure.js';

// `sendChatMessage` against the two ways a gateway answers `chat.send`: the workspace runtime with the reply
// itself, and a runtime that answers as OpenClaw does (`started` at once, the run's end as a `chat` event). What
// the OpenClaw-like runtime does is picked by the message, so each test drives one way a turn can end.

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function chatEvent(context: SessionContext, payload: Record<string, unknown>): void {
  context.sendEvent({ type: 'event', event: 'chat', payload: { sessionKey: 'agent:main:main', ...payload } });
}

/** Answers `chat.send` as OpenClaw 2026.9 does; the message says how the run ends. */
const openClawLike: TenantRuntime = {
  name: 'openclaw-like',
  async openSession(context): Promise<RuntimeSession> {
    return {
      async handle(request) {
        const params = request.params as { message: string; idempotencyKey?: string };
        if (request.method !== 'chat.send') return { ok: true, payload: {} };
        if (params.idempotencyKey === undefined)
          return {
            ok: false,
            error: { code: 'INVALID_REQUEST', message: "invalid chat.send params: must have required property 'idempotencyKey'" },
          };
        const runId = params.idempotencyKey;
        const end = (payload: Record<string, unknown>) => chatEvent(context, { runId, ...payload });
        switch (params.message) {
          case 'no run':
            return { ok: true, payload: { status: 'started' } };
          case 'ends first':
            end({ state: 'final', message: { role: 'assistant', content: 'Already done.' } });
            break;
          case 'fails':
            setTimeout(() => end({ state: 'error', errorMessage: 'No route-compatible authentication source is configured for fake' }), 20);
            break;
          case 'aborted':
            setTimeout(() => end({ state: 'aborted' }), 20);
            break;
          case 'drops':
            setTimeout(() => context.close(1012, 'cell restarting'), 20);
            break;
          case 'never ends':
            break;
          default:
            setTimeout(() => {
              // Another run's end and this run's progress come first: neither is this turn's reply.
              chatEvent(context, { runId: 'another-run', state: 'final', message: { content: 'Not yours.' } });
              end({ state: 'delta', message: { content: [{ type: 'text', text: 'Hel' }] } });
              end({
                state: 'final',
                message: {
                  role: 'assistant',
                  content: [
                    { type: 'text', text: 'Hello, ' },
                    { type: 'thinking', thinking: 'hidden' },
                    { type: 'text', text: params.message },
                  ],
                },
              });
            }, 20);
        }
        return { ok: true, payload: { runId, status: 'started' } };
      },
      close() {},
    };
  },
};

async function connectTo(runtime?: TenantRuntime): Promise<GatewayConnection> {
  const started = await startGateway(runtime === undefined ? {} : { gateway: { runtime } });
  stops.push(started.stop);
  const { token } = await started.manager.tokens.create('alice');
  const connection = await connectGateway({ url: started.url, token });
  stops.push(async () => connection.close());
  return connection;
}

describe('sendChatMessage', () => {
  test('the workspace runtime: the reply comes with the answer to chat.send', async () => {
    const connection = await connectTo();
    const turn = await sendChatMessage(connection, { message: 'hi' });
    expect(turn.reply).toBe('You said: hi');
    expect(turn.runId).not.toBe('');
  });

  test("an OpenClaw-like gateway: the reply is the text of the run's final event, not another run's", async () => {
    const connection = await connectTo(openClawLike);
    const turn = await sendChatMessage(connection, { message: 'world', sessionKey: 'main' });
    expect(turn.reply).toBe('Hello, world');
    // OpenClaw names the run by the idempotency key sent with the message: one per message.
    const again = await sendChatMessage(connection, { message: 'again' });
    expect(again.runId).not.toBe(turn.runId);
  });

  test('a run that ends before chat.send is answered is still found', async () => {
    const connection = await connectTo(openClawLike);
    expect(await sendChatMessage(connection, { message: 'ends first', timeoutMs: 5_000 })).toMatchObject({ reply: 'Already done.' });
  });

  test('a failed run rejects with TURN_FAILED and the gateway’s reason', async () => {
    const connection = await connectTo(openClawLike);
    const failure = await failureOf(sendChatMessage(connection, { message: 'fails' }));
    expect(failure.code).toBe('TURN_FAILED');
    expect(failure.shape.details).toEqual({ state: 'error' });
    expect(failure.message).toBe('The turn failed: No route-compatible authentication source is configured for fake');
  });

  test('an aborted run rejects with TURN_FAILED', async () => {
    const connection = await connectTo(openClawLike);
    const failure = await failureOf(sendChatMessage(connection, { message: 'aborted' }));
    expect(failure.code).toBe('TURN_FAILED');
    expect(failure.shape.details).toEqual({ state: 'aborted' });
  });

  test('a connection closed before the run ends rejects as retryable CLOSED with its close code', async () => {
    const connection = await connectTo(openClawLike);
    const failure = await failureOf(sendChatMessage(connection, { message: 'drops' }));
    expect(failure.code).toBe('CLOSED');
    expect(failure.closeCode).toBe(1012);
    expect(failure.shape.retryable).toBe(true);
  });

  test('a run that never ends rejects with TIMEOUT after timeoutMs', async () => {
    const connection = await connectTo(openClawLike);
    const failure = await failureOf(sendChatMessage(connection, { message: 'never ends', timeoutMs: 300 }));
    expect(failure.code).toBe('TIMEOUT');
    expect(failure.message).toContain('300 ms');
  });

  test('an answer that names no run rejects with TURN_FAILED instead of waiting', async () => {
    const connection = await connectTo(openClawLike);
    const failure = await failureOf(sendChatMessage(connection, { message: 'no run', timeoutMs: 60_000 }));
    expect(failure.code).toBe('TURN_FAILED');
  });
});
