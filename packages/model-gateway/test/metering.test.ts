import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRecord } from '@openclaw-mt/model-gateway';
import { call } from './support/client.js';
import { chat, content, type Harness, message, startHarness } from './support/harness.js';

// Metering adds up exactly what the provider reported, per tenant and provider, for every API shape and
// framing (JSON, SSE); it shows in usage(), stats(), onUsage and Prometheus.

describe('metering', () => {
  let h: Harness;
  const registry = new Registry();
  const records: UsageRecord[] = [];
  const credentials: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness({ metrics: { registry }, onUsage: (record) => records.push(record) });
    for (const tenantId of ['alice', 'bob']) credentials[tenantId] = h.gateway.issue(tenantId).credential;
  });
  afterAll(() => h.stop());

  type Served = { inputTokens: number; outputTokens: number };
  const requests: Record<string, Array<[string, unknown, Record<string, string>]>> = {
    openai: [
      ['/openai/chat/completions', chat('a'), {}],
      ['/openai/chat/completions', chat('bb', { stream: true }), {}],
      ['/openai/chat/completions', chat('ccc', { stream: true, stream_options: { include_usage: true } }), {}],
    ],
    anthropic: [
      ['/anthropic/v1/messages', message('d'), { 'anthropic-version': '2023-06-01' }],
      ['/anthropic/v1/messages', message('ee', { stream: true }), { 'anthropic-version': '2023-06-01' }],
    ],
    responses: [
      ['/responses/responses', { model: 'r', input: 'hi' }, {}],
      ['/responses/responses', { model: 'rr', input: 'hi', stream: true }, {}],
    ],
    google: [
      ['/google/models/gemini-a:streamGenerateContent?alt=sse', content(), {}],
      ['/google/models/gemini-b:streamGenerateContent?alt=sse', { ...content(), extra: 'longer body' }, {}],
    ],
  };

  it('counts, per tenant and provider, exactly the tokens each provider reported', async () => {
    const expected: Record<string, Record<string, Served & { requests: number }>> = { alice: {}, bob: {} };
    for (const tenantId of ['alice', 'bob', 'alice']) {
      for (const [providerId, list] of Object.entries(requests)) {
        for (const [path, body, headers] of list) {
          const before = h.upstream.served.length;
          const answer = await call(h.origin, path, { body, headers: { authorization: `Bearer ${credentials[tenantId]}`, ...headers } });
          expect(answer.status, path).toBe(200);
          expect(h.upstream.served.length).toBe(before + 1);
          const served = h.upstream.served.at(-1)!;
          expected[tenantId]![providerId] ??= { requests: 0, inputTokens: 0, outputTokens: 0 };
          const into = expected[tenantId]![providerId]!;
          into.requests++;
          into.inputTokens += served.inputTokens;
          into.outputTokens += served.outputTokens;
        }
      }
    }
    for (const tenantId of ['alice', 'bob']) {
      const usage = h.gateway.usage(tenantId);
      for (const [providerId, want] of Object.entries(expected[tenantId]!)) {
        expect(usage.providers[providerId], `${tenantId}/${providerId}`).toEqual({ ...want, estimated: 0, errors: {} });
      }
      const sum = (key: keyof Served) => Object.values(expected[tenantId]!).reduce((total, each) => total + each[key], 0);
      expect(usage).toMatchObject({
        tenantId,
        inputTokens: sum('inputTokens'),
        outputTokens: sum('outputTokens'),
        estimated: 0,
        errors: {},
      });
      expect(usage.tokensToday).toBe(sum('inputTokens') + sum('outputTokens'));
    }
    expect(h.gateway.usage('nobody')).toMatchObject({ requests: 0, inputTokens: 0, outputTokens: 0, providers: {} });
    const stats = h.gateway.stats();
    expect(stats.tenants).toBe(2);
    expect(stats.requests).toBe(h.upstream.served.length);
    expect(stats.inputTokens).toBe(h.upstream.served.reduce((total, each) => total + each.inputTokens, 0));
    expect(stats.outputTokens).toBe(h.upstream.served.reduce((total, each) => total + each.outputTokens, 0));
    expect(stats.inFlight).toBe(0);
    // One record per request, nothing secret in it.
    expect(records).toHaveLength(stats.requests);
    expect(records[0]).toMatchObject({ tenantId: 'alice', providerId: 'openai', status: 200, estimated: false });
    expect(JSON.stringify(records)).not.toMatch(/ocmg_|sk-|prompt that must never/);
  });

  it('counts errors by class, refused requests included, and keeps provider labels bounded', async () => {
    h.upstream.behaviours.set('broken', { kind: 'error', status: 500 });
    h.upstream.behaviours.set('denied', { kind: 'error', status: 403 });
    const auth = { authorization: `Bearer ${credentials.bob}` };
    expect((await call(h.origin, '/openai/chat/completions', { body: chat('broken'), headers: auth })).status).toBe(500);
    expect((await call(h.origin, '/openai/chat/completions', { body: chat('denied'), headers: auth })).status).toBe(403);
    expect((await call(h.origin, '/nope/chat/completions', { body: chat(), headers: auth })).status).toBe(404);
    expect((await call(h.origin, '/openai/chat/completions', { body: chat(), headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    expect((await call(h.origin, `/random-${Date.now()}/x`, { body: chat() })).status).toBe(401);
    const usage = h.gateway.usage('bob');
    expect(usage.providers.openai!.errors).toEqual({ upstream_server: 1, upstream_client: 1 });
    expect(usage.errors).toMatchObject({ upstream_server: 1, upstream_client: 1, unknown_provider: 1 });
    expect(h.gateway.stats().errors).toMatchObject({ auth: 2 });

    const text = await registry.metrics();
    expect(text).toContain('openclaw_mt_model_errors_total{provider="openai",class="upstream_server"} 1');
    expect(text).toContain('openclaw_mt_model_errors_total{provider="unknown",class="unknown_provider"} 1');
    expect(text).toContain('openclaw_mt_model_errors_total{provider="openai",class="auth"} 1');
    expect(text).toContain('openclaw_mt_model_errors_total{provider="unknown",class="auth"} 1');
    // No tenant label by default, and no provider label but configured ids and "unknown".
    expect(text).not.toContain('tenant=');
    const providers = new Set([...text.matchAll(/provider="([^"]+)"/g)].map((match) => match[1]));
    expect([...providers].sort()).toEqual(['anthropic', 'google', 'openai', 'responses', 'unknown']);
  });

  it('exports requests, tokens, in-flight, upstream latency and credentials to the host’s registry', async () => {
    const stats = h.gateway.stats();
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    const requests = await metric('openclaw_mt_model_requests_total');
    expect(requests.reduce((total, value) => total + value.value, 0)).toBe(stats.requests);
    const tokens = await metric('openclaw_mt_model_tokens_total');
    const byDirection = (direction: string) =>
      tokens.filter((value) => value.labels.direction === direction).reduce((total, value) => total + value.value, 0);
    expect(byDirection('input')).toBe(stats.inputTokens);
    expect(byDirection('output')).toBe(stats.outputTokens);
    expect((await metric('openclaw_mt_model_requests_in_flight'))[0]!.value).toBe(0);
    expect((await metric('openclaw_mt_model_credentials'))[0]!.value).toBe(2);
    const latency = await registry.getSingleMetricAsString('openclaw_mt_model_upstream_response_seconds');
    const count = /openclaw_mt_model_upstream_response_seconds_count\{provider="openai"\} (\d+)/.exec(latency)?.[1];
    expect(Number(count)).toBeGreaterThan(0);
  });

  it('estimates (and says so) when a provider compresses its answer anyway; the cell still gets it as sent', async () => {
    h.upstream.behaviours.set('zipped', { kind: 'gzip' });
    const before = h.gateway.usage('bob');
    const answer = await call(h.origin, '/openai/chat/completions', {
      body: chat('zipped'),
      headers: { authorization: `Bearer ${credentials.bob}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBe('gzip');
    const after = h.gateway.usage('bob');
    expect(after.estimated - before.estimated).toBe(1);
    expect(after.outputTokens - before.outputTokens).toBeGreaterThan(0);
    expect(after.inputTokens - before.inputTokens).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(chat('zipped'))) / 4));
  });

  it('adds a tenant label only when asked', async () => {
    const tenantRegistry = new Registry();
    const t = await startHarness({ metrics: { registry: tenantRegistry, tenantLabel: true } });
    try {
      const { credential } = t.gateway.issue('alice');
      await call(t.origin, '/openai/chat/completions', { body: chat(), headers: { authorization: `Bearer ${credential}` } });
      const text = await tenantRegistry.metrics();
      expect(text).toContain('openclaw_mt_model_requests_total{provider="openai",tenant="alice"} 1');
    } finally {
      await t.stop();
    }
  });
});
