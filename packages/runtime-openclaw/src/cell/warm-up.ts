import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventFrame } from '@openclaw-mt/gateway/protocol';
import type { RuntimeResponse } from '@openclaw-mt/gateway';
import type { BridgeDevice } from '../bridge/bridge-device.js';
import { CellConnection, CellHandshakeError, isAcceptedResponse } from '../bridge/cell-connection.js';

/** The session a pre-booted cell's warm-up turn runs in; deleted before any tenant can see the cell. */
export const WARM_UP_SESSION = 'openclaw-mt-warm-up';
const ENDED = new Set(['final', 'error', 'aborted']);

/** What the warm-up needs of a pre-booted cell (an `OpenClawCell` and its reserved model credential). */
export interface WarmUpTarget {
  readonly endpoint: { port: number; token: string } | undefined;
  /** OpenClaw's state directory on the host (where the deleted session's transcript is archived). */
  readonly stateDir: string;
  /** Resolves when the cell's model credential is presented, that is when the turn reached its model call. */
  nextModelRequest(signal: AbortSignal): Promise<void>;
}

export interface WarmUpOptions {
  clientVersion: string;
  device?: BridgeDevice;
  /** Longest wait for the turn to reach its model call (default 120 s). */
  timeoutMs?: number;
}

function failed(step: string, response: RuntimeResponse): Error {
  return new Error(`warm-up ${step}: ${response.ok ? 'unexpected answer' : response.error.message}`);
}

/** Resolves with the chat state once the warm-up session's run has ended (final, error or aborted). */
function runEnded(connection: CellConnection): { ended: Promise<string>; stop: () => void } {
  let stop = () => {};
  const ended = new Promise<string>((resolve) => {
    stop = connection.onEvent((event: EventFrame) => {
      const payload = event.payload as { sessionKey?: unknown; state?: unknown } | undefined;
      if (event.event !== 'chat' || typeof payload?.state !== 'string' || !ENDED.has(payload.state)) return;
      if (typeof payload.sessionKey !== 'string' || !payload.sessionKey.endsWith(WARM_UP_SESSION)) return;
      resolve(payload.state);
    });
  });
  return { ended, stop };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`warm-up: ${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Removes the transcripts OpenClaw archived when the warm-up session was deleted (`*.deleted.*`). */
async function removeArchivedTranscripts(stateDir: string): Promise<void> {
  const agents = join(stateDir, 'agents');
  for (const agent of await readdir(agents).catch(() => [] as string[])) {
    const sessions = join(agents, agent, 'sessions');
    for (const name of await readdir(sessions).catch(() => [] as string[]))
      if (name.includes('.deleted.')) await rm(join(sessions, name), { force: true });
  }
}

/** Connects once OpenClaw serves connections: for seconds after its first challenge it refuses them ("starting"). */
async function connectWhenServing(target: WarmUpTarget, options: WarmUpOptions): Promise<CellConnection> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const endpoint = target.endpoint;
    if (endpoint === undefined) throw new Error('warm-up: the cell is not running');
    try {
      return await CellConnection.open({
        ...endpoint,
        scopes: ['operator.admin', 'operator.read', 'operator.write'],
        clientVersion: options.clientVersion,
        ...(options.device === undefined ? {} : { device: options.device }),
        timeoutMs: 30_000,
      });
    } catch (error) {
      if (!(error instanceof CellHandshakeError && error.retryable) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * Runs one chat turn in a pre-booted cell, as far as its model call, so that OpenClaw loads and builds
 * its agent (≈ 7 s on a fresh process) before a tenant's first message instead of during it. The model
 * gateway holds the call unanswered (the credential is still reserved): the turn is aborted there, so
 * OpenClaw records no failure, and the session is deleted with its transcript. `unsupported` when the
 * cell does not run chat turns; throws when anything of the turn could be left behind (the caller then
 * throws the cell away).
 */
export async function warmUp(target: WarmUpTarget, options: WarmUpOptions): Promise<'done' | 'unsupported'> {
  const connection = await connectWhenServing(target, options);
  const { ended, stop } = runEnded(connection);
  const aborter = new AbortController();
  try {
    const reached = target.nextModelRequest(aborter.signal);
    reached.catch(() => undefined);
    const sent = await connection.request('chat.send', { sessionKey: WARM_UP_SESSION, message: 'ping', idempotencyKey: randomUUID() });
    if (!sent.ok) return 'unsupported';
    if (!isAcceptedResponse(sent) && (sent.payload as { status?: unknown } | undefined)?.status !== 'started')
      throw failed('chat.send', sent);
    await within(Promise.race([reached, ended]), options.timeoutMs ?? 120_000, 'reaching the model call');
    const aborted = await connection.request('chat.abort', { sessionKey: WARM_UP_SESSION });
    if (!aborted.ok) throw failed('chat.abort', aborted);
    await within(ended, 30_000, 'ending the turn');
    const deleted = await connection.request('sessions.delete', { key: WARM_UP_SESSION, deleteTranscript: true });
    if (!deleted.ok) throw failed('sessions.delete', deleted);
    await removeArchivedTranscripts(target.stateDir);
    const listed = await connection.request('sessions.list', {});
    const count = listed.ok ? (listed.payload as { count?: unknown }).count : undefined;
    if (count !== 0) throw failed('sessions.list', listed);
    return 'done';
  } finally {
    aborter.abort();
    stop();
    connection.close();
  }
}
