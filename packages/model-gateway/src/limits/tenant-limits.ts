import { MultiTenantError } from '@openclaw-mt/core';
import { DailyTokens } from './daily-tokens.js';
import { RequestWindow } from './request-window.js';

/** Per-tenant limits. A missing key means no limit (or, in an override, the operator's default). */
export interface ModelLimits {
  /** Requests per minute, over a sliding 60 s window. `null` in an override lifts the default. */
  requestsPerMinute?: number | null;
  /** Input + output tokens per UTC day, as metered. `null` in an override lifts the default. */
  tokensPerDay?: number | null;
}

/** A host's per-tenant override of the operator's default limits (say, from the tenant's plan). */
export type LimitsFor = (tenantId: string) => ModelLimits | undefined | Promise<ModelLimits | undefined>;

const MINUTE_MS = 60_000;
/** The most requests per minute a window keeps times for (8 bytes each). */
const MAX_REQUESTS_PER_MINUTE = 1_000_000;

interface TenantState {
  window?: RequestWindow;
  tokens: DailyTokens;
}

/** Why `limits` (at `key`) is not acceptable, or `undefined`. */
export function limitsProblem(limits: unknown): string | undefined {
  if (limits === undefined) return undefined;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) return 'expected an object';
  for (const [name, value] of Object.entries(limits)) {
    if (name !== 'requestsPerMinute' && name !== 'tokensPerDay') return `unknown limit "${name}"`;
    if (value === null || value === undefined) continue;
    const max = name === 'requestsPerMinute' ? MAX_REQUESTS_PER_MINUTE : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > max)
      return `${name} must be a whole number from 1 to ${max} (or null for none)`;
  }
  return undefined;
}

/**
 * Requests per minute and tokens per day for every tenant: operator defaults, overridden per tenant by an
 * optional hook. Refusals are coded (`RATE_LIMITED`, `QUOTA_EXCEEDED`) and carry the real `retryAfterMs`.
 */
export class TenantLimits {
  private readonly tenants = new Map<string, TenantState>();

  constructor(
    private readonly defaults: ModelLimits,
    private readonly limitsFor: LimitsFor | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Checks the day's tokens, then takes a request slot. Returns the refusal, or `undefined` when admitted
   * (synchronously when there is no hook). A hook that fails or answers nonsense refuses the request.
   */
  admit(tenantId: string): MultiTenantError | undefined | Promise<MultiTenantError | undefined> {
    if (this.limitsFor === undefined) return this.admitWith(tenantId, this.defaults);
    return Promise.resolve()
      .then(() => this.limitsFor!(tenantId))
      .then(
        (override) => {
          const problem = limitsProblem(override);
          if (problem !== undefined)
            return new MultiTenantError('CONFIG_INVALID', `The model limits for this tenant are invalid: ${problem}.`, {
              details: { reason: 'limits-invalid' },
            });
          return this.admitWith(tenantId, { ...this.defaults, ...override });
        },
        (error: unknown) =>
          new MultiTenantError('BACKEND_UNAVAILABLE', "The tenant's model limits could not be read; try again shortly.", {
            cause: error,
            retryAfterMs: 1_000,
            details: { reason: 'limits-unavailable' },
          }),
      );
  }

  private admitWith(tenantId: string, limits: ModelLimits): MultiTenantError | undefined {
    const now = this.now();
    let state = this.tenants.get(tenantId);
    if (state === undefined) {
      state = { tokens: new DailyTokens() };
      this.tenants.set(tenantId, state);
    }
    const { tokensPerDay, requestsPerMinute } = limits;
    if (typeof tokensPerDay === 'number') {
      const wait = state.tokens.check(tokensPerDay, now);
      if (wait > 0)
        return new MultiTenantError(
          'QUOTA_EXCEEDED',
          `The model token quota for today (${tokensPerDay} tokens) is used up; it resets at 00:00 UTC.`,
          { retryAfterMs: Math.ceil(wait), details: { reason: 'tokens-per-day', limit: tokensPerDay, used: state.tokens.used(now) } },
        );
    }
    if (typeof requestsPerMinute === 'number') {
      if (state.window === undefined) state.window = new RequestWindow(requestsPerMinute, MINUTE_MS);
      else state.window.resize(requestsPerMinute);
      const wait = state.window.take(now);
      if (wait > 0)
        return new MultiTenantError('RATE_LIMITED', `More than ${requestsPerMinute} model requests in a minute; retry later.`, {
          retryAfterMs: Math.ceil(wait),
          details: { reason: 'requests-per-minute', limit: requestsPerMinute },
        });
    }
    return undefined;
  }

  /** Charges metered tokens to the tenant's day. */
  charge(tenantId: string, tokens: number): void {
    if (tokens <= 0) return;
    let state = this.tenants.get(tenantId);
    if (state === undefined) {
      state = { tokens: new DailyTokens() };
      this.tenants.set(tenantId, state);
    }
    state.tokens.charge(tokens, this.now());
  }

  /** Tokens the tenant used today (UTC). */
  tokensToday(tenantId: string): number {
    return this.tenants.get(tenantId)?.tokens.used(this.now()) ?? 0;
  }

  /** Forgets tenants with nothing left to remember: no request in the last minute and no tokens today. */
  sweep(): void {
    const now = this.now();
    for (const [tenantId, state] of this.tenants) {
      const windowIdle = state.window === undefined || state.window.newest <= now - MINUTE_MS;
      if (windowIdle && state.tokens.used(now) === 0) this.tenants.delete(tenantId);
    }
  }
}
