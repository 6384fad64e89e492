import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MeteredRequest } from './usage-ledger.js';

/** Where and how the model gateway registers its Prometheus metrics. */
export interface ModelMetricsOptions {
  /** The host's registry (prom-client 15); the gateway registers its metrics on it. */
  registry: Registry;
  /**
   * Add a `tenant` label to the request, token and error counters. Off by default: every tenant would multiply
   * those series (tenants × providers × classes), which a Prometheus server pays for in memory on every scrape;
   * with thousands of tenants that is the classic cardinality blow-up. Per-tenant figures are in `usage(tenantId)`
   * (and `onUsage` for billing); turn this on only for a bounded number of tenants.
   */
  tenantLabel?: boolean;
}

/** The metric names, for documentation and dashboards. */
export const MODEL_METRIC_NAMES = {
  requests: 'openclaw_mt_model_requests_total',
  tokens: 'openclaw_mt_model_tokens_total',
  errors: 'openclaw_mt_model_errors_total',
  estimated: 'openclaw_mt_model_estimated_usage_total',
  inFlight: 'openclaw_mt_model_requests_in_flight',
  upstreamSeconds: 'openclaw_mt_model_upstream_response_seconds',
  credentials: 'openclaw_mt_model_credentials',
} as const;

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The gateway's metrics; `provider` is a configured id or `unknown`, so every label stays bounded. */
export interface ModelMetrics {
  finished(request: MeteredRequest, providerLabel: string): void;
  upstreamAnswered(providerLabel: string, seconds: number): void;
  started(): void;
  ended(): void;
}

/** Registers the metrics on the host's registry. `credentials` is read at scrape time. */
export function createModelMetrics(options: ModelMetricsOptions, credentials: () => number): ModelMetrics {
  const registers = [options.registry];
  const tenant = options.tenantLabel === true;
  const withTenant = (names: string[]) => (tenant ? [...names, 'tenant'] : names);
  const requests = new Counter({
    name: MODEL_METRIC_NAMES.requests,
    help: 'Model requests, by provider',
    labelNames: withTenant(['provider']),
    registers,
  });
  const tokens = new Counter({
    name: MODEL_METRIC_NAMES.tokens,
    help: 'Metered model tokens, by provider and direction (input, output)',
    labelNames: withTenant(['provider', 'direction']),
    registers,
  });
  const errors = new Counter({
    name: MODEL_METRIC_NAMES.errors,
    help: 'Model requests that failed, by provider and class',
    labelNames: withTenant(['provider', 'class']),
    registers,
  });
  const estimated = new Counter({
    name: MODEL_METRIC_NAMES.estimated,
    help: 'Answers whose usage the provider never reported, charged at an estimate',
    labelNames: ['provider'],
    registers,
  });
  const inFlight = new Gauge({ name: MODEL_METRIC_NAMES.inFlight, help: 'Model requests in flight', registers });
  const upstream = new Histogram({
    name: MODEL_METRIC_NAMES.upstreamSeconds,
    help: 'Seconds from forwarding a request to the provider’s response headers',
    labelNames: ['provider'],
    buckets: SECONDS,
    registers,
  });
  new Gauge({
    name: MODEL_METRIC_NAMES.credentials,
    help: 'Live cell credentials',
    registers,
    collect() {
      this.set(credentials());
    },
  });
  return {
    finished(request, provider) {
      const labels = (extra: Record<string, string>) =>
        tenant ? { provider, ...extra, tenant: request.tenantId ?? 'none' } : { provider, ...extra };
      requests.inc(labels({}));
      if (request.inputTokens > 0) tokens.inc(labels({ direction: 'input' }), request.inputTokens);
      if (request.outputTokens > 0) tokens.inc(labels({ direction: 'output' }), request.outputTokens);
      if (request.errorClass !== undefined) errors.inc(labels({ class: request.errorClass }));
      if (request.estimated) estimated.inc({ provider });
    },
    upstreamAnswered(provider, seconds) {
      upstream.observe({ provider }, seconds);
    },
    started() {
      inFlight.inc();
    },
    ended() {
      inFlight.dec();
    },
  };
}
