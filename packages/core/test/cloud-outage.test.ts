import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { TenantManager, isMultiTenantError, type MultiTenantError } from '@openclaw-mt/core';
import { createCloudBackend, createFileCursorStore } from '@openclaw-mt/core/cloud';
import { createMemoryConfigSource, createMemoryConfigState, createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import { createToken } from '@openclaw-mt/core/tokens';
import { captureLogger } from './cloud-support/capture-logger.js';
import { ManualClock } from './cloud-support/manual-clock.js';
import { type StubBackend, startStubBackend } from './cloud-support/stub-backend.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function errorOf(promise: Promise<unknown>): Promise<MultiTenantError> {
  try {
    await promise;
  } catch (error) {
    if (isMultiTenantError(error)) return error;
    throw error;
  }
  throw new Error('expected a coded failure');
}

async function setup(
  options: {
    outageGraceMs?: number;
    timeoutMs?: number;
    stub?: StubBackend;
    configState?: ReturnType<typeof createMemoryConfigState>;
    cursorPath?: string;
  } = {},
) {
  const stub = options.stub ?? (await startStubBackend());
  if (!options.stub) cleanups.push(() => stub.close());
  const clock = new ManualClock();
  const capture = captureLogger();
  const lastKnownGood = createMemoryConfigSource({ state: options.configState ?? createMemoryConfigState() });
  const cloud = createCloudBackend({
    url: stub.url,
    serviceToken: stub.serviceToken,
    lastKnownGood,
    ...(options.cursorPath ? { cursorStore: createFileCursorStore(options.cursorPath) } : {}),
    clock,
    random: () => 0.5,
    syncIntervalMs: 60_000,
    timeoutMs: options.timeoutMs ?? 2_000,
    logger: capture.logger,
    ...(options.outageGraceMs === undefined ? {} : { outageGraceMs: options.outageGraceMs }),
  });
  const manager = new TenantManager({
    tokens: cloud.tokens,
    configs: cloud.configs,
    workspaces: createMemoryWorkspaceStore(),
    now: clock.now,
    idleTimeoutMs: 0,
    logger: capture.logger,
  });
  cleanups.push(() => manager.close());
  const alerts = { failed: [] as Array<{ error: MultiTenantError; attempt: number }>, recovered: [] as number[] };
  manager.hooks.hook('sync:failed', (event) => void alerts.failed.push(event));
  manager.hooks.hook('sync:recovered', ({ downtimeMs }) => void alerts.recovered.push(downtimeMs));
  return { stub, clock, capture, cloud, manager, alerts, lastKnownGood };
}

describe('a five-minute Cloud Backend outage (simulated clock)', () => {
  test('cached tokens keep working, unknown ones fail with BACKEND_UNAVAILABLE, one alert and one recovery', async () => {
    const stub = await startStubBackend();
    cleanups.push(() => stub.close());
    stub.setUser('alice', { config: { model: 'a' } });
    stub.setUser('bob', { config: { model: 'b' } });
    const aliceToken = stub.issueToken('alice');
    const bobToken = stub.issueToken('bob');
    const { clock, capture, cloud, manager, alerts } = await setup({ stub });

    const { first } = await cloud.attach(manager);
    expect(first).toMatchObject({ ok: true, applied: 2 });
    expect((await manager.authenticate(aliceToken)).tenantId).toBe('alice');

    stub.fault = 'down';
    const outageStart = clock.now();
    for (let elapsed = 0; elapsed < 5 * 60_000; elapsed += 20_000) {
      await clock.advance(20_000);
      // Past the 30 s auth cache the store is asked again: the grace cache answers.
      expect((await manager.authenticate(aliceToken)).tenantId).toBe('alice');
      const unknown = await errorOf(manager.authenticate(bobToken));
      expect(unknown.code).toBe('BACKEND_UNAVAILABLE');
      expect(unknown.retryAfterMs).toBeGreaterThan(0);
      const garbage = await errorOf(manager.authenticate(createToken()));
      expect(garbage.code).toBe('BACKEND_UNAVAILABLE');
    }
    expect(cloud.sync.status().consecutiveFailures).toBeGreaterThan(3);
    expect(alerts.failed).toHaveLength(1);
    expect(alerts.failed[0]!.error.code).toBe('BACKEND_UNAVAILABLE');
    expect(alerts.recovered).toHaveLength(0);
    // Configs are served from the last-known-good copy throughout.
    const lease = await manager.acquire('alice');
    expect(lease.config).toEqual({ model: 'a' });
    lease.release();

    stub.fault = undefined;
    await clock.advance(5 * 60_000);
    expect(alerts.failed).toHaveLength(1);
    expect(alerts.recovered).toHaveLength(1);
    // Measured from the first failed run (the next scheduled one after the backend went down).
    expect(alerts.recovered[0]).toBeGreaterThan(3 * 60_000);
    expect(alerts.recovered[0]).toBeLessThanOrEqual(clock.now() - outageStart);
    expect((await manager.authenticate(bobToken)).tenantId).toBe('bob');

    // One warning per outage, however many runs failed.
    expect(capture.lines.filter((line) => line.startsWith('[warn]') && line.includes('config sync failed'))).toHaveLength(1);
    expect(capture.lines.filter((line) => line.includes('recovered'))).toHaveLength(1);

    for (const request of stub.requests) {
      expect(request.url).not.toMatch(/gt_/);
      expect(request.url).not.toContain(stub.serviceToken);
    }
    for (const token of [aliceToken, bobToken, stub.serviceToken]) expect(capture.text()).not.toContain(token);
  });

  test('a second outage raises a second alert; dropped connections count as an outage too', async () => {
    const { stub, clock, cloud, manager, alerts } = await setup();
    stub.setUser('alice');
    await cloud.attach(manager);
    for (const fault of ['reset', 'down'] as const) {
      stub.fault = fault;
      await clock.advance(3 * 60_000);
      stub.fault = undefined;
      await clock.advance(6 * 60_000);
    }
    expect(alerts.failed).toHaveLength(2);
    expect(alerts.recovered).toHaveLength(2);
  });

  test('the grace period is bounded: after outageGraceMs even a cached token is refused', async () => {
    const { stub, clock, cloud, manager } = await setup({ outageGraceMs: 2 * 60_000 });
    stub.setUser('alice');
    const token = stub.issueToken('alice');
    await cloud.attach(manager);
    await manager.authenticate(token);
    stub.fault = 'down';
    await clock.advance(90_000);
    expect((await manager.authenticate(token)).tenantId).toBe('alice');
    await clock.advance(60_000);
    expect((await errorOf(manager.authenticate(token))).code).toBe('BACKEND_UNAVAILABLE');
  });

  test('a hung backend is cut off by the request deadline and treated as unknown', async () => {
    const { stub, cloud, manager } = await setup({ timeoutMs: 250 });
    stub.setUser('alice');
    const token = stub.issueToken('alice');
    await cloud.attach(manager);
    stub.fault = 'hang';
    const result = await cloud.sync.syncNow();
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('BACKEND_UNAVAILABLE');
    expect(result.error?.details.reason).toBe('timeout');
    expect((await errorOf(manager.authenticate(token))).code).toBe('BACKEND_UNAVAILABLE');
  });

  test('a suspension synced before the outage holds during it, even for a token in the grace cache', async () => {
    const { stub, clock, cloud, manager } = await setup();
    stub.setUser('alice');
    const token = stub.issueToken('alice');
    await cloud.attach(manager);
    await manager.authenticate(token);
    stub.setUser('alice', { status: 'suspended' });
    await clock.advance(60_000);
    stub.fault = 'down';
    await clock.advance(60_000);
    expect((await errorOf(manager.authenticate(token))).code).toBe('TENANT_SUSPENDED');
  });

  test('a restart during an outage serves the persisted last-known-good configs and resumes from the saved cursor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-cloud-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cursorPath = join(dir, 'sync-cursor.json');
    const configState = createMemoryConfigState();
    const stub = await startStubBackend();
    cleanups.push(() => stub.close());
    stub.addUsers(25);
    stub.setUser('alice', { config: { model: 'before-restart' } });

    const before = await setup({ stub, configState, cursorPath });
    await before.cloud.attach(before.manager);
    const savedCursor = before.cloud.sync.status().cursor;
    expect(savedCursor).toBeDefined();
    await before.manager.close();

    stub.fault = 'down';
    const after = await setup({ stub, configState, cursorPath });
    const { first } = await after.cloud.attach(after.manager);
    expect(first?.ok).toBe(false);
    expect(after.alerts.failed).toHaveLength(1);
    const lease = await after.manager.acquire('alice');
    expect(lease.config).toEqual({ model: 'before-restart' });
    lease.release();

    stub.setUser('alice', { config: { model: 'after-restart' } });
    stub.fault = undefined;
    const seen = stub.requests.length;
    await after.clock.advance(5 * 60_000);
    expect(after.alerts.recovered).toHaveLength(1);
    const resumed = stub.requests.slice(seen).find((request) => request.url.startsWith('/openclaw/gateway/configs'));
    expect(new URL(resumed!.url, 'http://x').searchParams.get('cursor')).toBe(savedCursor);
    expect((await after.lastKnownGood.get('alice'))?.config).toEqual({ model: 'after-restart' });
  });
});
