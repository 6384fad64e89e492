/**
 * Why a request did not end well. A closed set, so it can be a metric label:
 * - `auth` — no valid cell credential (401);
 * - `rate_limited`, `quota` — the tenant's limits (429);
 * - `bad_request` — a path or method the provider does not allow, or a malformed request;
 * - `unknown_provider` — no provider with that id;
 * - `too_large` — the request body is over the cap (413);
 * - `upstream_client`, `upstream_server` — the provider answered 4xx / 5xx (passed to the cell as they are);
 * - `unreachable` — the provider could not be reached or broke the connection (502);
 * - `timeout` — the provider went silent for longer than the upstream timeout (504);
 * - `aborted` — the cell went away before the answer ended;
 * - `unavailable` — a host hook (limits, keys) failed, or the gateway is closing (503);
 * - `internal` — a fault of the gateway itself.
 */
export const ERROR_CLASSES = [
  'auth',
  'rate_limited',
  'quota',
  'bad_request',
  'unknown_provider',
  'too_large',
  'upstream_client',
  'upstream_server',
  'unreachable',
  'timeout',
  'aborted',
  'unavailable',
  'internal',
] as const;

/** One of {@link ERROR_CLASSES}. */
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Counters of one tenant's (or everyone's) use of one provider (or all). */
export interface ProviderUsage {
  /** Requests that reached the gateway's routing (authenticated ones, for a tenant). */
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** Answers whose token counts are the gateway's estimate (the provider never reported usage, say the cell aborted first). */
  estimated: number;
  errors: Partial<Record<ErrorClass, number>>;
}

/** One tenant's use of the providers since the gateway started. */
export interface TenantUsage extends ProviderUsage {
  tenantId: string;
  /** Input + output tokens charged today (UTC), what `tokensPerDay` is held to. */
  tokensToday: number;
  providers: Record<string, ProviderUsage>;
}

/** One finished request, as it is counted. */
export interface MeteredRequest {
  /** Undefined for a request without a valid credential. */
  tenantId?: string;
  /** Undefined when the path named no configured provider. */
  providerId?: string;
  inputTokens: number;
  outputTokens: number;
  estimated: boolean;
  errorClass?: ErrorClass;
}

const empty = (): ProviderUsage => ({ requests: 0, inputTokens: 0, outputTokens: 0, estimated: 0, errors: {} });

function add(into: ProviderUsage, request: MeteredRequest): void {
  into.requests++;
  into.inputTokens += request.inputTokens;
  into.outputTokens += request.outputTokens;
  if (request.estimated) into.estimated++;
  if (request.errorClass !== undefined) into.errors[request.errorClass] = (into.errors[request.errorClass] ?? 0) + 1;
}

function copy(usage: ProviderUsage): ProviderUsage {
  return { ...usage, errors: { ...usage.errors } };
}

interface TenantEntry {
  total: ProviderUsage;
  providers: Map<string, ProviderUsage>;
}

/** In-memory counters per tenant and provider, plus totals. */
export class UsageLedger {
  private readonly tenants = new Map<string, TenantEntry>();
  private readonly providers = new Map<string, ProviderUsage>();
  private readonly total = empty();

  record(request: MeteredRequest): void {
    add(this.total, request);
    if (request.providerId !== undefined) {
      let provider = this.providers.get(request.providerId);
      if (provider === undefined) {
        provider = empty();
        this.providers.set(request.providerId, provider);
      }
      add(provider, request);
    }
    if (request.tenantId === undefined) return;
    let tenant = this.tenants.get(request.tenantId);
    if (tenant === undefined) {
      tenant = { total: empty(), providers: new Map() };
      this.tenants.set(request.tenantId, tenant);
    }
    add(tenant.total, request);
    if (request.providerId === undefined) return;
    let perProvider = tenant.providers.get(request.providerId);
    if (perProvider === undefined) {
      perProvider = empty();
      tenant.providers.set(request.providerId, perProvider);
    }
    add(perProvider, request);
  }

  /** A tenant's counters (zeros for a tenant never seen). */
  tenant(tenantId: string, tokensToday: number): TenantUsage {
    const entry = this.tenants.get(tenantId);
    return {
      tenantId,
      tokensToday,
      ...copy(entry?.total ?? empty()),
      providers: Object.fromEntries([...(entry?.providers ?? [])].map(([id, usage]) => [id, copy(usage)])),
    };
  }

  /** Totals over every tenant, per provider and overall. */
  totals(): ProviderUsage & { tenants: number; providers: Record<string, ProviderUsage> } {
    return {
      ...copy(this.total),
      tenants: this.tenants.size,
      providers: Object.fromEntries([...this.providers].map(([id, usage]) => [id, copy(usage)])),
    };
  }
}
