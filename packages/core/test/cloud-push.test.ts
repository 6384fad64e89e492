import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createPushReceiver, type PushedEntries, signPush, verifyPushSignature } from '@openclaw-mt/core/cloud';
import { captureLogger } from './cloud-support/capture-logger.js';

const SECRET = 'push-secret-0123456789-abcdefghijklmnop';
const NEXT_SECRET = 'next-push-secret-0123456789-abcdefghijkl';
const NOW = Date.UTC(2026, 0, 1);

describe('push signatures', () => {
  test('property: a signed body verifies; any change to body, timestamp or secret does not', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 0, max: 290 }), fc.nat({ max: 299 }), (body, skewSeconds, flip) => {
        const timestamp = NOW / 1000 - skewSeconds;
        const header = signPush(SECRET, body, timestamp);
        expect(verifyPushSignature({ header, body, secrets: [SECRET], nowMs: NOW })).toEqual({ ok: true, timestampMs: timestamp * 1000 });
        const changed =
          body.length === 0
            ? 'x'
            : body.slice(0, flip % body.length) +
              String.fromCharCode(body.charCodeAt(flip % body.length) ^ 1) +
              body.slice((flip % body.length) + 1);
        expect(verifyPushSignature({ header, body: changed, secrets: [SECRET], nowMs: NOW })).toEqual({ ok: false, problem: 'mismatch' });
        expect(verifyPushSignature({ header, body, secrets: [NEXT_SECRET], nowMs: NOW })).toEqual({ ok: false, problem: 'mismatch' });
        const shifted = header.replace(/^t=(\d+)/, (_, t: string) => `t=${Number(t) - 1}`);
        expect(verifyPushSignature({ header: shifted, body, secrets: [SECRET], nowMs: NOW })).toEqual({ ok: false, problem: 'mismatch' });
      }),
      { numRuns: 300 },
    );
  });

  test('the replay window, secret rotation and malformed headers', () => {
    const body = '{"id":"evt_1","createdAt":1}';
    const at = (seconds: number) => signPush(SECRET, body, NOW / 1000 + seconds);
    expect(verifyPushSignature({ header: at(-301), body, secrets: [SECRET], nowMs: NOW })).toEqual({ ok: false, problem: 'stale' });
    expect(verifyPushSignature({ header: at(301), body, secrets: [SECRET], nowMs: NOW })).toEqual({ ok: false, problem: 'stale' });
    expect(verifyPushSignature({ header: at(-60), body, secrets: [SECRET], nowMs: NOW, toleranceMs: 30_000 })).toEqual({
      ok: false,
      problem: 'stale',
    });
    // During a rotation the backend signs with both; the gateway accepts either it knows.
    const both = signPush([NEXT_SECRET, SECRET], body, NOW / 1000);
    expect(verifyPushSignature({ header: both, body, secrets: [SECRET], nowMs: NOW }).ok).toBe(true);
    expect(verifyPushSignature({ header: at(0), body, secrets: [NEXT_SECRET, SECRET], nowMs: NOW }).ok).toBe(true);
    for (const header of [
      undefined,
      '',
      't=1',
      'v1=abc',
      `t=x,v1=${'0'.repeat(64)}`,
      `t=${NOW / 1000},v1=${'z'.repeat(64)}`,
      `t=${NOW / 1000},v1==`,
      'x'.repeat(5_000),
    ]) {
      const verdict = verifyPushSignature({ header, body, secrets: [SECRET], nowMs: NOW });
      expect(verdict.ok).toBe(false);
    }
    // An unknown scheme next to a valid v1 is ignored, as webhooks do.
    expect(verifyPushSignature({ header: `${at(0)},v2=whatever`, body, secrets: [SECRET], nowMs: NOW }).ok).toBe(true);
  });
});

describe('the push receiver', () => {
  function receiver(apply: (entries: PushedEntries) => Promise<{ applied: number; rejected: number; tokenEvents: number }>) {
    const capture = captureLogger();
    const instance = createPushReceiver({
      secrets: [SECRET],
      apply,
      clock: { now: () => NOW, setTimeout: () => 0, clearTimeout: () => undefined },
      logger: capture.logger,
    });
    const send = (event: unknown, secret = SECRET) => {
      const body = typeof event === 'string' ? event : JSON.stringify(event);
      return instance.handle({ signature: signPush(secret, body, NOW / 1000), body });
    };
    return { instance, send, capture };
  }

  test('applies an event once per id, also when redeliveries overlap; passes entries on raw', async () => {
    const applied: PushedEntries[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { instance, send } = receiver(async (entries) => {
      applied.push(entries);
      await gate;
      return { applied: 1, rejected: 0, tokenEvents: entries.tokens?.length ?? 0 };
    });
    const event = {
      id: 'evt_1',
      createdAt: NOW,
      tokens: [{ tokenHash: 'a'.repeat(64), userId: 'alice', type: 'revoked', at: NOW }],
      users: [{ userId: 'alice' }],
    };
    const [first, second] = [send(event), send(event)];
    release();
    expect(await first).toMatchObject({ status: 200, body: { ok: true, id: 'evt_1', duplicate: false, tokenEvents: 1 } });
    expect(await second).toMatchObject({ status: 200, body: { ok: true, id: 'evt_1', duplicate: true } });
    expect(await send(event)).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(applied).toHaveLength(1);
    expect(instance.stats()).toEqual({ accepted: 1, duplicates: 2, refused: 0 });
  });

  test('refuses a wrong signature (401), a bad body (400), an oversized one (413) — applying nothing, logging no secret', async () => {
    let calls = 0;
    const { send, instance, capture } = receiver(async () => {
      calls++;
      return { applied: 0, rejected: 0, tokenEvents: 0 };
    });
    expect(await send({ id: 'evt_1', createdAt: NOW }, NEXT_SECRET)).toMatchObject({
      status: 401,
      body: { error: { code: 'PUSH_SIGNATURE_INVALID' } },
    });
    expect(await instance.handle({ signature: undefined, body: '{}' })).toMatchObject({ status: 401 });
    expect(await send('not json')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    expect(await send({ id: '', createdAt: NOW })).toMatchObject({ status: 400 });
    expect(await send({ id: 'evt_2', createdAt: -1 })).toMatchObject({ status: 400 });
    expect(await send('x'.repeat(1024 * 1024 + 1))).toMatchObject({ status: 413 });
    expect(calls).toBe(0);
    expect(capture.lines.filter((line) => line.includes('Refused'))).toHaveLength(1);
    expect(capture.text()).not.toContain(SECRET);
  });

  test('an event that fails to apply answers 500 and is applied on redelivery', async () => {
    let attempts = 0;
    const { send } = receiver(async () => {
      if (++attempts === 1) throw new Error('store down');
      return { applied: 1, rejected: 0, tokenEvents: 0 };
    });
    expect(await send({ id: 'evt_9', createdAt: NOW })).toMatchObject({ status: 500 });
    expect(await send({ id: 'evt_9', createdAt: NOW })).toMatchObject({ status: 200, body: { duplicate: false, applied: 1 } });
  });

  test('short secrets are refused at construction', () => {
    expect(() => createPushReceiver({ secrets: ['short'], apply: async () => ({ applied: 0, rejected: 0, tokenEvents: 0 }) })).toThrow(
      /32 characters/,
    );
  });
});
