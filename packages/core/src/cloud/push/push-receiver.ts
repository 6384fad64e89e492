import type { ConsolaInstance } from 'consola';
import { LRUMapWithDelete } from 'mnemonist';
import { z } from 'zod';
import { MultiTenantError } from '../../errors/multi-tenant-error.js';
import { createLogger } from '../../logging/logger.js';
import { describeIssues } from '../answer-errors.js';
import { type CloudClock, systemClock } from '../clock.js';
import type { PushedEntries } from '../config-sync.js';
import { DEFAULT_PUSH_TOLERANCE_MS, type PushSignatureProblem, verifyPushSignature } from './push-signature.js';

/** Largest push body accepted. */
export const MAX_PUSH_BYTES = 1024 * 1024;

/** What a push applied. */
export interface PushOutcome {
  applied: number;
  rejected: number;
  tokenEvents: number;
}

/** Options of {@link createPushReceiver}. */
export interface PushReceiverOptions {
  /** Shared secrets, current first (all are accepted, for rotation); at least 32 characters each. */
  secrets: readonly string[];
  /** Replay window: accepted age of a signature's timestamp, either way. Default 5 min. */
  toleranceMs?: number;
  /** Applies a verified event's entries (the sync validates each like a feed entry). */
  apply: (entries: PushedEntries) => Promise<PushOutcome>;
  /** Event ids remembered to answer redeliveries without applying them again. Default 10,000. */
  rememberedEvents?: number;
  clock?: CloudClock;
  logger?: ConsolaInstance;
}

/** A push as received: the signature header and the exact body text. */
export interface PushRequest {
  signature: string | undefined;
  body: string;
}

/** The answer to send back: a status and a JSON body. */
export interface PushAnswer {
  status: number;
  body:
    | ({ ok: true; id: string; duplicate: boolean } & PushOutcome)
    | { error: { code: 'PUSH_SIGNATURE_INVALID' | 'BAD_REQUEST' | 'INTERNAL'; message: string } };
}

/** Counters of a push receiver. */
export interface PushReceiverStats {
  accepted: number;
  duplicates: number;
  refused: number;
}

/** Verifies and applies signed pushes from the Cloud Backend (contract v1.1). Transport-free: see the gateway's route. */
export interface PushReceiver {
  handle(request: PushRequest): Promise<PushAnswer>;
  stats(): PushReceiverStats;
}

// The envelope only: entries are validated one by one by the sync, on their raw form.
const envelopeSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/),
  createdAt: z.int().nonnegative(),
  users: z.array(z.unknown()).max(1_000).optional(),
  tokens: z.array(z.unknown()).max(1_000).optional(),
});

const SIGNATURE_MESSAGES: Record<PushSignatureProblem, string> = {
  missing: 'The OpenClaw-Signature header is missing.',
  malformed: 'The OpenClaw-Signature header is malformed; expected t=<unix seconds>,v1=<hex HMAC-SHA256>.',
  stale: 'The signature timestamp is outside the replay window; check both clocks.',
  mismatch: 'The signature does not match: check the shared push secret.',
};

/**
 * Creates a {@link PushReceiver}: checks the HMAC-SHA256 signature over `"<timestamp>.<body>"` with any of
 * the shared secrets and the replay window, parses the event, and applies it once per event id (a redelivery
 * is answered `200` with `duplicate: true`; one arriving while the first is still applied waits for it).
 * Refusals are counted and logged at most once a minute; nothing secret is ever logged.
 */
export function createPushReceiver(options: PushReceiverOptions): PushReceiver {
  if (
    !Array.isArray(options.secrets) ||
    options.secrets.length === 0 ||
    options.secrets.some((secret) => typeof secret !== 'string' || secret.length < 32)
  ) {
    throw new MultiTenantError('CONFIG_INVALID', 'cloud.push.secrets: expected at least one secret of at least 32 characters.');
  }
  const secrets = [...options.secrets];
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger({ tag: 'openclaw-mt:cloud', secrets });
  const toleranceMs = options.toleranceMs ?? DEFAULT_PUSH_TOLERANCE_MS;
  const seen = new LRUMapWithDelete<string, Promise<PushOutcome>>(Math.max(1, options.rememberedEvents ?? 10_000));
  const counters: PushReceiverStats = { accepted: 0, duplicates: 0, refused: 0 };
  let lastRefusalLog = Number.NEGATIVE_INFINITY;
  let unreported = 0;

  const refuse = (status: number, code: 'PUSH_SIGNATURE_INVALID' | 'BAD_REQUEST', message: string): PushAnswer => {
    counters.refused++;
    unreported++;
    const now = clock.now();
    if (now - lastRefusalLog >= 60_000) {
      log.warn(`Refused ${unreported} Cloud Backend push${unreported === 1 ? '' : 'es'} (${code}): ${message}`);
      lastRefusalLog = now;
      unreported = 0;
    }
    return { status, body: { error: { code, message } } };
  };

  return {
    async handle(request) {
      if (Buffer.byteLength(request.body) > MAX_PUSH_BYTES)
        return refuse(413, 'BAD_REQUEST', `Push bodies are at most ${MAX_PUSH_BYTES} bytes.`);
      const verdict = verifyPushSignature({ header: request.signature, body: request.body, secrets, nowMs: clock.now(), toleranceMs });
      if (!verdict.ok) return refuse(401, 'PUSH_SIGNATURE_INVALID', SIGNATURE_MESSAGES[verdict.problem]);
      let raw: unknown;
      try {
        raw = JSON.parse(request.body);
      } catch {
        return refuse(400, 'BAD_REQUEST', 'The push body is not JSON.');
      }
      const parsed = envelopeSchema.safeParse(raw);
      if (!parsed.success) return refuse(400, 'BAD_REQUEST', `Invalid push event: ${describeIssues(parsed.error.issues, secrets)}.`);
      const event = parsed.data;
      const earlier = seen.get(event.id);
      if (earlier !== undefined) {
        counters.duplicates++;
        try {
          return { status: 200, body: { ok: true, id: event.id, duplicate: true, ...(await earlier) } };
        } catch {
          // The first delivery failed to apply: apply this one.
        }
      }
      const applying = options.apply({ ...(event.users ? { users: event.users } : {}), ...(event.tokens ? { tokens: event.tokens } : {}) });
      seen.set(event.id, applying);
      try {
        const outcome = await applying;
        counters.accepted++;
        return { status: 200, body: { ok: true, id: event.id, duplicate: false, ...outcome } };
      } catch (error) {
        seen.delete(event.id);
        log.warn(`Applying Cloud Backend push ${event.id} failed: ${error instanceof Error ? error.message : String(error)}`);
        // 5xx: the backend retries; the feed delivers the same changes anyway.
        return { status: 500, body: { error: { code: 'INTERNAL', message: 'The event could not be applied; retry it.' } } };
      }
    },
    stats: () => ({ ...counters }),
  };
}
