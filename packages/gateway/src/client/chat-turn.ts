import { randomUUID } from 'node:crypto';
import type { EventFrame } from '../protocol/frames.js';
import { GatewayRequestError, type GatewayConnection } from './gateway-client.js';

/** Options of {@link sendChatMessage}. */
export interface ChatMessage {
  message: string;
  /** Default `main`. */
  sessionKey?: string;
  /** How long the whole turn may take (default 5 minutes). */
  timeoutMs?: number;
}

/** The end of a chat turn. */
export interface ChatTurn {
  runId: string;
  /** The assistant's text (empty when it chose not to answer). */
  reply: string;
}

interface ChatEvent {
  runId?: unknown;
  state?: unknown;
  message?: { content?: unknown };
  errorMessage?: unknown;
}

const END_STATES = new Set(['final', 'error', 'aborted']);

/** The text parts of an assistant message, whose content is a string or a list of typed parts. */
function textOf(message: ChatEvent['message']): string {
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => part?.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
}

function turnFailed(state: string, message: string): GatewayRequestError {
  return new GatewayRequestError({ code: 'TURN_FAILED', message, details: { state } });
}

/**
 * Sends one chat message and resolves with the assistant's reply, from either kind of gateway: the
 * built-in workspace runtime answers `chat.send` with the reply itself; OpenClaw answers `started` at
 * once and ends the run later with a `chat` event (`final`, `error` or `aborted`) naming its `runId`.
 * A turn that ends in `error` or `aborted` rejects with `TURN_FAILED`.
 */
export async function sendChatMessage(connection: GatewayConnection, turn: ChatMessage): Promise<ChatTurn> {
  const timeoutMs = turn.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  // Collected from before the request: a run can end before its `chat.send` is answered.
  const ended = new Map<string, ChatEvent>();
  let awaited: { runId: string; settle: (event: ChatEvent) => void } | undefined;
  const stopListening = connection.onEvent((frame: EventFrame) => {
    const event = frame.payload as ChatEvent | undefined;
    if (frame.event !== 'chat' || typeof event?.runId !== 'string' || !END_STATES.has(String(event.state))) return;
    ended.set(event.runId, event);
    if (awaited?.runId === event.runId) awaited.settle(event);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const sent = await connection.request<{ runId?: unknown; reply?: unknown } | undefined>(
      'chat.send',
      { message: turn.message, sessionKey: turn.sessionKey ?? 'main', idempotencyKey: randomUUID() },
      { timeoutMs },
    );
    const runId = typeof sent?.runId === 'string' ? sent.runId : '';
    if (typeof sent?.reply === 'string') return { runId, reply: sent.reply };
    if (runId === '') throw turnFailed('unknown', 'The gateway started no run for the message (its answer named none).');
    const end =
      ended.get(runId) ??
      (await new Promise<ChatEvent>((resolve, reject) => {
        awaited = { runId, settle: resolve };
        timer = setTimeout(
          () => reject(new GatewayRequestError({ code: 'TIMEOUT', message: `The reply did not come within ${timeoutMs} ms.` })),
          Math.max(0, deadline - Date.now()),
        );
        connection.closed.then(({ code, reason }) =>
          reject(
            new GatewayRequestError(
              { code: 'CLOSED', message: `Connection closed before the reply (${code}${reason ? `: ${reason}` : ''}).`, retryable: true },
              code,
            ),
          ),
        );
      }));
    if (end.state === 'final') return { runId, reply: textOf(end.message) };
    if (end.state === 'aborted') throw turnFailed('aborted', 'The turn was aborted before it ended.');
    throw turnFailed('error', `The turn failed: ${typeof end.errorMessage === 'string' ? end.errorMessage : 'no reason given'}`);
  } finally {
    clearTimeout(timer);
    stopListening();
  }
}
