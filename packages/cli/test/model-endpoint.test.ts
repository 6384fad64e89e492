import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { createMemoryTenantSecretStore, type CloudBackend } from '@openclaw-mt/core/cloud';
import { startFakeProvider, type FakeProvider } from '../../model-gateway/test/support/fake-provider.js';
import { modelEndpoint, operatorProviders } from '../src/context/model-endpoint.js';

const models = (apiKeyEnv: string) => ({
  providers: { fake: { api: 'openai-completions', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv } },
});

describe('operatorProviders', () => {
  test('reads a key from the variable it names, and refuses an unset one or both forms at once', () => {
    expect(operatorProviders(models('KEY'), { KEY: 'sk-from-env' }).fake).toMatchObject({ apiKey: 'sk-from-env' });
    expect(() => operatorProviders(models('KEY'), {})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => operatorProviders(models('KEY'), { KEY: '' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const both = { providers: { fake: { api: 'openai-completions', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'a', apiKeyEnv: 'KEY' } } };
    expect(() => operatorProviders(both, { KEY: 'b' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('the model endpoint serve starts', () => {
  const operatorKey = `sk-op-${randomBytes(12).toString('hex')}`;
  const ownKey = `sk-own-${randomBytes(12).toString('hex')}`;
  let provider: FakeProvider;
  const registry = new Registry();
  let endpoint: ReturnType<typeof modelEndpoint>;

  beforeAll(async () => {
    provider = await startFakeProvider();
    endpoint = modelEndpoint({ providers: { fake: { api: 'openai-completions', baseUrl: `${provider.origin}/v1`, apiKey: operatorKey } } });
    // The tenant's own key, as a Cloud Backend keeps it (its llm_api_key).
    const secrets = createMemoryTenantSecretStore();
    await secrets.set('mep-own', { fake: { apiKey: ownKey, baseUrl: `${provider.origin}/v1` } });
    const cloud = {
      resolveCredential: (tenantId: string, providerId: string) => secrets.resolve(tenantId, providerId),
    } as unknown as CloudBackend;
    await endpoint.start({ registry, cloud, logger: createLogger({ tag: 'models', level: 1 }), tcp: true });
  });
  afterAll(async () => {
    await endpoint?.close();
    await provider?.close();
  });

  test("is wired into cells: a cell's provider entry reaches the provider with the operator's key or the tenant's own", async () => {
    const origin = endpoint.cells.origin!;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const [tenantId, key] of [
      ['mep-op', operatorKey],
      ['mep-own', ownKey],
    ] as const) {
      const { credential } = endpoint.cells.gateway.issue(tenantId);
      const entry = endpoint.cells.gateway.cellProviders(credential, origin).fake!;
      expect(entry).toEqual({ baseUrl: `${origin}/fake`, api: 'openai-completions', apiKey: credential });
      const answer = await fetch(`${entry.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${entry.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: tenantId }] }),
      });
      expect(answer.status).toBe(200);
      await answer.text();
      expect(provider.seen.at(-1)!.headers.authorization).toBe(`Bearer ${key}`);
    }
    // Metered per tenant, on the registry /metrics serves, and in the counters /v1/stats shows.
    expect(endpoint.gateway()!.usage('mep-op').requests).toBe(1);
    expect(endpoint.gateway()!.usage('mep-own').requests).toBe(1);
    expect(endpoint.gateway()!.stats().requests).toBe(2);
    expect(await registry.metrics()).toMatch(/openclaw_mt_model/);
  });
});
