import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DailyTokens } from '../src/limits/daily-tokens.js';
import { RequestWindow } from '../src/limits/request-window.js';
import { TenantLimits } from '../src/limits/tenant-limits.js';
import { call } from './support/client.js';
import { chat, type Harness, startHarness } from './support/harness.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('request window (property)', () => {
  it('admits at most `limit` requests in any window, and a refusal’s retryAfterMs is exact', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 25_000 }), { minLength: 1, maxLength: 120 }),
        (limit, gaps) => {
          const window = new RequestWindow(limit, MINUTE);
          const admitted: number[] = [];
          let now = 1_700_000_000_000;
          for (const gap of gaps) {
            now += gap;
            const inWindow = admitted.filter((at) => at > now - MINUTE).length;
            const wait = window.take(now);
            if (wait === 0) {
              expect(inWindow).toBeLessThan(limit);
              admitted.push(now);
              continue;
            }
            expect(inWindow).toBe(limit);
            // Honest: a request at now + wait fits, one a millisecond earlier does not.
            const oldest = admitted.filter((at) => at > now - MINUTE)[0]!;
            expect(wait).toBe(oldest + MINUTE - now);
            expect(admitted.filter((at) => at > now + wait - MINUTE).length).toBeLessThan(limit);
            expect(admitted.filter((at) => at > now + wait - 1 - MINUTE).length).toBe(limit);
          }
        },
      ),
    );
  });

  it('keeps the newest admissions when its limit changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 10 }),
        (first, second, taken) => {
          const window = new RequestWindow(first, MINUTE);
          const times: number[] = [];
          for (let i = 0; i < taken; i++) if (window.take(1_000 + i) === 0) times.push(1_000 + i);
          window.resize(second);
          const kept = times.slice(-second);
          const now = 2_000;
          const wait = window.take(now);
          if (kept.length < second) expect(wait).toBe(0);
          else expect(wait).toBe(kept[0]! + MINUTE - now);
        },
      ),
    );
  });
});

describe('daily tokens (property)', () => {
  it('refuses once the day’s tokens reach the limit, until exactly the next UTC midnight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 * 3_600_000 }), fc.integer({ min: 0, max: 3_000 })), { maxLength: 60 }),
        (limit, steps) => {
          const tokens = new DailyTokens();
          const charged = new Map<number, number>();
          let now = Date.UTC(2026, 0, 1, 13);
          for (const [gap, spend] of steps) {
            now += gap;
            const day = Math.floor(now / DAY);
            const used = charged.get(day) ?? 0;
            const wait = tokens.check(limit, now);
            if (used < limit) expect(wait).toBe(0);
            else expect(wait).toBe((day + 1) * DAY - now);
            if (wait === 0) {
              tokens.charge(spend, now);
              charged.set(day, used + spend);
            }
            expect(tokens.used(now)).toBe(charged.get(day) ?? 0);
          }
        },
      ),
    );
  });
});

describe('tenant limits', () => {
  it('merges a tenant override over the defaults; null lifts a default; bad answers refuse', async () => {
    let now = Date.UTC(2026, 5, 1, 12);
    const limits = new TenantLimits(
      { requestsPerMinute: 2, tokensPerDay: 100 },
      (tenantId) => ({ vip: { requestsPerMinute: null }, broken: { requestsPerMinute: -1 } })[tenantId],
      () => now,
    );
    expect(await limits.admit('alice')).toBeUndefined();
    expect(await limits.admit('alice')).toBeUndefined();
    expect(await limits.admit('alice')).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: MINUTE });
    for (let i = 0; i < 10; i++) expect(await limits.admit('vip')).toBeUndefined();
    expect(await limits.admit('broken')).toMatchObject({ code: 'CONFIG_INVALID' });
    limits.charge('vip', 100);
    expect(await limits.admit('vip')).toMatchObject({ code: 'QUOTA_EXCEEDED', retryAfterMs: 12 * 3_600_000 });
    now += 12 * 3_600_000;
    expect(await limits.admit('vip')).toBeUndefined();
    expect(limits.tokensToday('vip')).toBe(0);
  });

  it('forgets idle tenants on sweep, but not a day’s tokens', async () => {
    let now = Date.UTC(2026, 5, 1, 12);
    const limits = new TenantLimits({ requestsPerMinute: 1 }, undefined, () => now);
    limits.admit('a');
    limits.admit('b');
    limits.charge('b', 5);
    now += MINUTE;
    limits.sweep();
    expect(limits.tokensToday('b')).toBe(5);
    expect(limits.admit('a')).toBeUndefined();
  });
});

describe('limits at the gateway', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('answers 429 RATE_LIMITED with the real retryAfterMs, per tenant, and never forwards the refused request', async () => {
    h = await startHarness({ limits: { requestsPerMinute: 3 } });
    const alice = h.gateway.issue('alice').credential;
    const bob = h.gateway.issue('bob').credential;
    const send = (credential: string) =>
      call(h!.origin, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${credential}` } });
    const firstSent = Date.now();
    expect((await send(alice)).status).toBe(200);
    const firstAnswered = Date.now();
    for (let i = 0; i < 2; i++) expect((await send(alice)).status).toBe(200);
    const before = h.upstream.seen.length;
    const refusedSent = Date.now();
    const refused = await send(alice);
    const refusedAnswered = Date.now();
    expect(refused.status).toBe(429);
    const { error } = refused.json<{
      error: { code: string; retryAfterMs: number; retryable: boolean; details: Record<string, unknown> };
    }>();
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, details: { reason: 'requests-per-minute', limit: 3 } });
    // The first admission leaves the window 60 s after it was made: the wait is that, as seen at the refusal.
    expect(error.retryAfterMs).toBeLessThanOrEqual(firstAnswered + MINUTE - refusedSent);
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(firstSent + MINUTE - refusedAnswered);
    expect(refused.headers['retry-after-ms']).toBe(String(error.retryAfterMs));
    expect(refused.headers['retry-after']).toBe(String(Math.ceil(error.retryAfterMs / 1000)));
    expect(h.upstream.seen.length).toBe(before);
    // Bob has his own budget.
    expect((await send(bob)).status).toBe(200);
    expect(h.gateway.usage('alice').errors).toEqual({ rate_limited: 1 });
  });

  it('answers 429 QUOTA_EXCEEDED once the day’s metered tokens reach the limit, until UTC midnight', async () => {
    h = await startHarness({
      limits: { tokensPerDay: 1_000 },
      limitsFor: (tenantId) => (tenantId === 'small' ? { tokensPerDay: 20 } : undefined),
    });
    const small = h.gateway.issue('small').credential;
    const big = h.gateway.issue('big').credential;
    const send = (credential: string) =>
      call(h!.origin, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${credential}` } });
    // One answer takes "small" past 20 tokens: it is allowed (the check is before forwarding), the next is not.
    expect((await send(small)).status).toBe(200);
    const used = h.gateway.usage('small').tokensToday;
    expect(used).toBeGreaterThanOrEqual(20);
    const refused = await send(small);
    const midnight = (Math.floor(Date.now() / DAY) + 1) * DAY;
    expect(refused.status).toBe(429);
    const { error } = refused.json<{ error: { code: string; retryAfterMs: number; details: Record<string, unknown> } }>();
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { reason: 'tokens-per-day', limit: 20, used } });
    expect(Math.abs(error.retryAfterMs - (midnight - Date.now()))).toBeLessThan(2_000);
    expect((await send(big)).status).toBe(200);
  });

  it('refuses (503) when the limits hook fails: no request gets through unchecked', async () => {
    h = await startHarness({
      limitsFor: async () => {
        throw new Error('plan service down');
      },
    });
    const { credential } = h.gateway.issue('alice');
    const answer = await call(h.origin, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${credential}` } });
    expect(answer.status).toBe(503);
    expect(answer.json()).toMatchObject({ error: { code: 'BACKEND_UNAVAILABLE', details: { reason: 'limits-unavailable' } } });
    expect(h.upstream.seen).toHaveLength(0);
  });

  it('refuses limits that make no sense at start', async () => {
    const { createModelGateway } = await import('@openclaw-mt/model-gateway');
    expect(() => createModelGateway({ providers: {}, limits: { requestsPerMinute: 0 } })).toThrow(/requestsPerMinute/);
    expect(() => createModelGateway({ providers: {}, limits: { tokensPerHour: 5 } as never })).toThrow(/tokensPerHour/);
  });
});
