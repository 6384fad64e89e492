import { afterEach, describe, expect, test } from 'vitest';
import { TenantManager, isMultiTenantError } from '@openclaw-mt/core';
import { createCloudBackend, fbaTimestamp } from '@openclaw-mt/core/cloud';
import { createMemoryConfigSource, createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import { captureLogger } from './cloud-support/capture-logger.js';
import { type FbaBackendStub, startFbaBackendStub } from './cloud-support/fba-backend-stub.js';
import { ManualClock } from './cloud-support/manual-clock.js';

const LLM_KEY = 'sk-alice-llm-0123456789abcdef';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => (isMultiTenantError(error) ? error.code : String(error)),
  );

async function forkGateway(stub: FbaBackendStub) {
  const clock = new ManualClock();
  const capture = captureLogger();
  const lastKnownGood = createMemoryConfigSource();
  const cloud = createCloudBackend({
    url: stub.url,
    serviceToken: stub.serviceToken,
    dialect: 'fba',
    lastKnownGood,
    clock,
    random: () => 0.5,
    timeoutMs: 1_000,
    logger: capture.logger,
  });
  const manager = new TenantManager({
    tokens: cloud.tokens,
    configs: cloud.configs,
    workspaces: createMemoryWorkspaceStore(),
    tokenFormats: ['gt', 'gw'],
    now: clock.now,
    idleTimeoutMs: 0,
    logger: capture.logger,
  });
  cleanups.push(() => manager.close());
  return { cloud, manager, clock, capture, lastKnownGood };
}

async function fork(options: { allowConfigs?: boolean } = {}) {
  const stub = await startFbaBackendStub(options);
  cleanups.push(() => stub.close());
  stub.addUser('alice', { config: { model: 'm1' }, llmApiKey: LLM_KEY, llmApiBaseUrl: 'https://llm.example.com/v1' });
  stub.addUser('bob', { config: { model: 'b' } });
  stub.addUser('sam', { status: 'suspended' });
  return stub;
}

describe('the fork’s backend through the fba dialect', () => {
  test('its gw_ tokens verify (in the URL, without a service token), its configs sync, its keys become tenant secrets', async () => {
    const stub = await fork();
    const { cloud, manager, clock, capture, lastKnownGood } = await forkGateway(stub);
    const { first } = await cloud.attach(manager);
    expect(first).toMatchObject({ ok: true, applied: 2 });
    const alice = stub.issueToken('alice');
    expect((await manager.authenticate(alice)).tenantId).toBe('alice');
    const verify = stub.requests.find((request) => request.url.includes('verify-token'))!;
    expect(verify.method).toBe('POST');
    expect(verify.headers.authorization).toBeUndefined();
    const lease = await manager.acquire('alice');
    expect(lease.config).toEqual({ model: 'm1' });
    expect(JSON.stringify(lease.config)).not.toContain(LLM_KEY);
    expect(JSON.stringify(await lastKnownGood.get('alice'))).not.toContain(LLM_KEY);
    expect(await cloud.resolveCredential('alice', 'openai')).toEqual({ apiKey: LLM_KEY, baseUrl: 'https://llm.example.com/v1' });
    expect(await cloud.resolveCredential('bob', 'openai')).toBeUndefined();
    // Versions come from updated_at: a change moves it, so the next walk applies it.
    stub.setUser('alice', { config: { model: 'm2' } });
    await clock.advance(60_000);
    expect(lease.config).toEqual({ model: 'm2' });
    lease.release();
    expect(capture.text()).not.toContain(alice);
    expect(capture.text()).not.toContain(LLM_KEY);
    expect(capture.text()).not.toContain(stub.serviceToken);
  });

  test('users it stops listing are suspended (and their tenant evicted) at the next walk; listed again, active again', async () => {
    const stub = await fork();
    const { cloud, manager, clock } = await forkGateway(stub);
    await cloud.attach(manager);
    const token = stub.issueToken('alice');
    const lease = await manager.acquire((await manager.authenticate(token)).tenantId);
    const evicted: string[] = [];
    manager.hooks.hook('tenant:evicted', ({ tenantId, reason }) => void evicted.push(`${tenantId} ${reason}`));
    stub.setUser('alice', { status: 'disabled' });
    await clock.advance(60_000);
    expect(evicted).toEqual(['alice suspended']);
    lease.release();
    expect(await codeOf(manager.authenticate(token))).toBe('TENANT_SUSPENDED');
    expect(await cloud.resolveCredential('alice', 'default')).toBeUndefined();
    stub.setUser('alice', { status: 'active' });
    await clock.advance(60_000);
    expect((await manager.authenticate(token)).tenantId).toBe('alice');
    const again = await manager.acquire('alice');
    expect(again.config).toEqual({ model: 'm1' });
    again.release();
    // Suspended from the start: never listed, refused by verify.
    expect(await codeOf(manager.authenticate(stub.issueToken('sam')))).toBe('TOKEN_UNKNOWN');
  });

  test('an empty list while several users were active suspends nobody and raises SYNC_SNAPSHOT_EMPTY', async () => {
    const stub = await fork();
    const { cloud, manager, clock } = await forkGateway(stub);
    await cloud.attach(manager);
    for (const user of stub.users.values()) user.status = 'disabled';
    const alerts: string[] = [];
    manager.hooks.hook('sync:alert', ({ code }) => void alerts.push(code));
    await clock.advance(60_000);
    expect(alerts).toEqual(['SYNC_SNAPSHOT_EMPTY']);
    expect((await cloud.configs.get('alice'))?.status).toBe('active');
  });

  test('with its JWT middleware in the way, sync fails with the fix in the message; verify still admits and seeds the config', async () => {
    const stub = await fork({ allowConfigs: false });
    const { cloud, manager } = await forkGateway(stub);
    const { first } = await cloud.attach(manager);
    expect(first?.ok).toBe(false);
    expect(first?.error?.message).toContain('TOKEN_REQUEST_PATH_EXCLUDE');
    expect(first?.error?.message).not.toContain(stub.serviceToken);
    const token = stub.issueToken('bob');
    expect((await manager.authenticate(token)).tenantId).toBe('bob');
    const lease = await manager.acquire('bob');
    expect(lease.config).toEqual({ model: 'b' });
    lease.release();
  });

  test('updated_at: ISO without a zone is UTC, zones are honoured, microseconds kept, epoch seconds and milliseconds accepted', () => {
    expect(fbaTimestamp('2026-01-01T00:00:00')).toBe(Date.UTC(2026, 0, 1) * 1000);
    expect(fbaTimestamp('2026-01-01 08:00:00+08:00')).toBe(Date.UTC(2026, 0, 1) * 1000);
    expect(fbaTimestamp('2026-01-01T00:00:00.123456')).toBe(Date.UTC(2026, 0, 1) * 1000 + 123_456);
    expect(fbaTimestamp(1_767_225_600)).toBe(Date.UTC(2026, 0, 1) * 1000);
    expect(fbaTimestamp(1_767_225_600_000)).toBe(Date.UTC(2026, 0, 1) * 1000);
    for (const bad of ['yesterday', '', null, -1, 'x'.repeat(100)]) expect(fbaTimestamp(bad)).toBeUndefined();
  });
});
