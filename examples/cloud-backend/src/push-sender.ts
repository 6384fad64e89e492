import { PUSH_SIGNATURE_HEADER, signPush } from '@openclaw-mt/core/cloud';
import type { createLogger } from '@openclaw-mt/core';
import { createBackoff } from '@openclaw-mt/core/helpers';
import type { ChangeRecord } from './database.js';

/** Delivers signed change events to gateways (contract v1.1 pushes). */
export interface PushSender {
  /** Where events go: every gateway node's push URL (`http://node:18789/v1/cloud-events`). */
  setTargets(urls: readonly string[]): void;
  readonly targets: readonly string[];
  /** Sends one change to every target, in the background, with retries. */
  announce(change: ChangeRecord): void;
  /** Settles when every delivery started so far has finished (delivered or given up). */
  idle(): Promise<void>;
}

/** Options of {@link createPushSender}. */
export interface PushSenderOptions {
  /** Shared secrets; the first signs (give two during a rotation: both signatures are sent). */
  secrets: readonly string[];
  targets?: readonly string[];
  now: () => number;
  log: ReturnType<typeof createLogger> | undefined;
  /** Attempts per target (default 4: at once, then after 0.25, 1 and 4 s; later pauses stay at 30 s). */
  attempts?: number;
  timeoutMs?: number;
}

/**
 * Pushes each committed change to every gateway target: `POST` the event with an `OpenClaw-Signature`
 * (HMAC-SHA256 over `"<timestamp>.<body>"`), re-signed on every attempt; a 2xx is done, a 4xx other than
 * 429 is given up at once, anything else is retried with backoff. A delivery that never succeeds costs
 * only latency: the same change is in the feed, which gateways read every sync interval.
 */
export function createPushSender(options: PushSenderOptions): PushSender {
  let targets = [...(options.targets ?? [])];
  const inflight = new Set<Promise<void>>();
  const attempts = options.attempts ?? 4;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pauseBefore = createBackoff({ initialMs: 250, factor: 4, maxMs: 30_000, jitter: 'none' });

  const deliver = async (target: string, id: string, body: string) => {
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, pauseBefore(attempt)).unref());
      try {
        const response = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [PUSH_SIGNATURE_HEADER]: signPush(options.secrets, body, options.now() / 1000) },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel().catch(() => undefined);
        if (response.ok) return;
        if (response.status < 500 && response.status !== 429) {
          options.log?.warn(`push ${id} to ${new URL(target).origin} refused with ${response.status}; not retried`);
          return;
        }
      } catch {
        // Retried below; the feed carries the change anyway.
      }
    }
    options.log?.warn(`push ${id} to ${new URL(target).origin} failed ${attempts} times; gateways get it from the feed`);
  };

  return {
    setTargets(urls) {
      for (const url of urls) new URL(url);
      targets = [...urls];
    },
    get targets() {
      return targets;
    },
    announce(change) {
      if (targets.length === 0 || (change.users.length === 0 && change.tokens.length === 0)) return;
      const id = `evt_${change.seq}`;
      const body = JSON.stringify({ id, createdAt: options.now(), users: change.users, tokens: change.tokens });
      for (const target of targets) {
        const delivery = deliver(target, id, body).finally(() => inflight.delete(delivery));
        inflight.add(delivery);
      }
    },
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
