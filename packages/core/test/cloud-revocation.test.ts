import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Monitor } from '@openclaw-mt/core/monitor';
import { TenantManager, isMultiTenantError } from '@openclaw-mt/core';
import { createCloudBackend, createFileVerifiedTokenStore, signPush, type VerifiedTokenStore } from '@openclaw-mt/core/cloud';
import { createTokenHasher, createToken } from '@openclaw-mt/core/tokens';
import { createMemoryConfigSource, createMemoryConfigState, createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import { captureLogger } from './cloud-support/capture-logger.js';
import { ManualClock } from './cloud-support/manual-clock.js';
import { type StubBackend, startStubBackend } from './cloud-support/stub-backend.js';

const PEPPER = 'pepper-0123456789-abcdef';
const PUSH_SECRET = 'push-secret-0123456789-abcdefghijklmnop';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => (isMultiTenantError(error) ? error.code : String(error)),
  );
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

async function gateway(
  stub: StubBackend,
  options: { verifiedTokens?: VerifiedTokenStore; clock?: ManualClock; configState?: ReturnType<typeof createMemoryConfigState> } = {},
) {
  const clock = options.clock ?? new ManualClock();
  const capture = captureLogger();
  const cloud = createCloudBackend({
    url: stub.url,
    serviceToken: stub.serviceToken,
    lastKnownGood: createMemoryConfigSource({ state: options.configState ?? createMemoryConfigState() }),
    peppers: [PEPPER],
    push: { secrets: [PUSH_SECRET] },
    clock,
    random: () => 0.5,
    timeoutMs: 1_000,
    breakerMs: 0,
    logger: capture.logger,
    ...(options.verifiedTokens ? { verifiedTokens: options.verifiedTokens } : {}),
  });
  const manager = new TenantManager({
    tokens: cloud.tokens,
    configs: cloud.configs,
    workspaces: createMemoryWorkspaceStore(),
    peppers: [PEPPER],
    now: clock.now,
    idleTimeoutMs: 0,
    logger: capture.logger,
  });
  cleanups.push(() => manager.close());
  const events: string[] = [];
  manager.hooks.hook('token:revoked', ({ tenantId }) => void events.push(`revoked ${tenantId}`));
  manager.hooks.hook('tenant:suspended', ({ tenantId }) => void events.push(`suspended ${tenantId}`));
  manager.hooks.hook('tenant:evicted', ({ tenantId, reason }) => void events.push(`evicted ${tenantId} ${reason}`));
  manager.hooks.hook('backend:failed', () => void events.push('backend failed'));
  manager.hooks.hook('backend:recovered', () => void events.push('backend recovered'));
  const push = (event: Record<string, unknown>) => {
    const body = JSON.stringify(event);
    return cloud.push!.handle({ signature: signPush(PUSH_SECRET, body, clock.now() / 1000), body });
  };
  return { cloud, manager, clock, capture, events, push };
}

async function stubWithAlice() {
  const stub = await startStubBackend();
  cleanups.push(() => stub.close());
  stub.setUser('alice', { config: { model: 'a' } });
  return stub;
}

describe('revocations the gateway has seen', () => {
  test('a pushed revocation reaches the manager under the gateway’s own (peppered) hash; no cache or racing answer admits the token again', async () => {
    const stub = await stubWithAlice();
    const { cloud, manager, events, push, clock } = await gateway(stub);
    await cloud.attach(manager);
    const token = stub.issueToken('alice');
    const auth = await manager.authenticate(token);
    const revokedHashes: string[] = [];
    manager.hooks.hook('token:revoked', ({ tokenHash }) => void revokedHashes.push(tokenHash));
    // The backend still says "valid" (its revocation raced our verify); the push is what the gateway saw.
    expect(
      await push({
        id: 'evt_1',
        createdAt: clock.now(),
        tokens: [{ tokenHash: sha256(token), userId: 'alice', type: 'revoked', at: clock.now() }],
      }),
    ).toMatchObject({
      status: 200,
      body: { tokenEvents: 1 },
    });
    expect(revokedHashes).toEqual([auth.tokenHash]);
    expect(auth.tokenHash).not.toBe(sha256(token));
    expect(await codeOf(manager.authenticate(token))).toBe('TOKEN_UNKNOWN');
    expect(events).toContain('revoked alice');
  });

  test('a revocation in the feed does the same within one sync; a rotation keeps the token until its grace ends', async () => {
    const stub = await stubWithAlice();
    const { cloud, manager, clock } = await gateway(stub);
    await cloud.attach(manager);
    const kept = stub.issueToken('alice');
    const dropped = stub.issueToken('alice');
    await manager.authenticate(kept);
    await manager.authenticate(dropped);
    stub.revokeToken(dropped);
    await clock.advance(60_000);
    expect(await codeOf(manager.authenticate(dropped))).toBe('TOKEN_UNKNOWN');
    expect(await codeOf(manager.authenticate(kept))).toBe('ok');
    expect(cloud.tokens.stats().tokenEvents).toBe(1);
  });

  test('a suspension only verify knows closes the tenant and a resumption only verify knows admits at once', async () => {
    const stub = await stubWithAlice();
    const { cloud, manager, events } = await gateway(stub);
    await cloud.attach(manager);
    const laptop = stub.issueToken('alice');
    const phone = stub.issueToken('alice');
    const lease = await manager.acquire((await manager.authenticate(laptop)).tenantId);
    // Suspended in the backend; the feed has not told us (no sync ran).
    stub.users.get('alice')!.status = 'suspended';
    expect(await codeOf(manager.authenticate(phone))).toBe('TENANT_SUSPENDED');
    expect(events).toEqual(expect.arrayContaining(['suspended alice', 'evicted alice suspended']));
    expect(manager.isActive('alice')).toBe(false);
    lease.release();
    // Resumed in the backend, still not synced: the next connect is admitted and activates.
    stub.users.get('alice')!.status = 'active';
    const another = stub.issueToken('alice');
    const auth = await manager.authenticate(another);
    const again = await manager.acquire(auth.tenantId);
    expect(again.config).toEqual({ model: 'a' });
    again.release();
  });

  test('verify failures are logged once per outage (then rate-limited) and raise the monitor’s backend alert', async () => {
    const stub = await stubWithAlice();
    const { cloud, manager, capture, events, clock } = await gateway(stub);
    await cloud.attach(manager);
    const monitor = new Monitor({
      manager,
      logStats: false,
      logger: capture.logger,
      now: clock.now,
      memory: () => ({ rss: 1, heapUsed: 1, heapLimit: 100 }),
    });
    cleanups.push(async () => monitor.stop());
    stub.fault = 'down';
    for (let i = 0; i < 5; i++) expect(await codeOf(manager.authenticate(createToken()))).toBe('BACKEND_UNAVAILABLE');
    expect(capture.lines.filter((line) => line.startsWith('[warn]') && line.includes('token verification'))).toHaveLength(1);
    expect(events).toEqual(['backend failed']);
    clock.time += 60_000;
    await monitor.tick();
    expect(monitor.activeAlerts().map((alert) => alert.rule)).toEqual(['backend']);
    stub.fault = undefined;
    await codeOf(manager.authenticate(createToken()));
    expect(events).toEqual(['backend failed', 'backend recovered']);
    clock.time += 60_000;
    await monitor.tick();
    expect(monitor.activeAlerts()).toEqual([]);
    expect(capture.text()).not.toContain(stub.serviceToken);
  });
});

describe('the outage grace persists', () => {
  test('after a restart during an outage: verified users are admitted within the grace, unknown and revoked ones are not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-grace-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'verified-tokens.jsonl');
    const stub = await stubWithAlice();
    stub.setUser('bob');
    const configState = createMemoryConfigState();
    const clock = new ManualClock();
    const first = await gateway(stub, { verifiedTokens: createFileVerifiedTokenStore(file), clock, configState });
    await first.cloud.attach(first.manager);
    const alice = stub.issueToken('alice');
    const bob = stub.issueToken('bob');
    const revoked = stub.issueToken('alice');
    const never = stub.issueToken('alice');
    for (const token of [alice, bob, revoked]) await first.manager.authenticate(token);
    await first.push({
      id: 'evt_r',
      createdAt: clock.now(),
      tokens: [{ tokenHash: sha256(revoked), userId: 'alice', type: 'revoked', at: clock.now() }],
    });
    await first.manager.close();
    // What is on disk: hashes and times, never a token, private to the owner.
    const text = await readFile(file, 'utf8');
    for (const token of [alice, bob, revoked]) expect(text).not.toContain(token);
    expect(text.trim().split('\n')).toHaveLength(2);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    // The backend goes down; a new process starts from the same files.
    stub.fault = 'down';
    clock.time += 10 * 60_000;
    const second = await gateway(stub, { verifiedTokens: createFileVerifiedTokenStore(file), clock, configState });
    expect((await second.manager.authenticate(alice)).tenantId).toBe('alice');
    expect((await second.manager.authenticate(bob)).tenantId).toBe('bob');
    expect(await codeOf(second.manager.authenticate(revoked))).toBe('BACKEND_UNAVAILABLE');
    expect(await codeOf(second.manager.authenticate(never))).toBe('BACKEND_UNAVAILABLE');
    // Past the grace window (15 min after the last verification), nobody is admitted.
    clock.time += 6 * 60_000;
    expect(await codeOf(second.manager.authenticate(createToken()))).toBe('BACKEND_UNAVAILABLE');
    const third = await gateway(stub, { verifiedTokens: createFileVerifiedTokenStore(file), clock, configState });
    expect(await codeOf(third.manager.authenticate(alice))).toBe('BACKEND_UNAVAILABLE');
  });

  test('the file holds no more than memory: tokens the LRU lets go and revocations by backend hash leave it too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-grace-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'verified-tokens.jsonl');
    const store = createFileVerifiedTokenStore(file);
    const hasher = createTokenHasher({ peppers: [PEPPER] });
    const [one, two] = [createToken(), createToken()];
    for (const token of [one, two])
      store.put({ tokenHash: hasher.hash(token), backendHash: sha256(token), tenantId: 'alice', verifiedAt: 1 });
    store.deleteBackendHash(sha256(one));
    await store.flush();
    expect((await createFileVerifiedTokenStore(file).load()).map((record) => record.backendHash)).toEqual([sha256(two)]);

    const stub = await stubWithAlice();
    const small = createCloudBackend({
      url: stub.url,
      serviceToken: stub.serviceToken,
      lastKnownGood: createMemoryConfigSource(),
      peppers: [PEPPER],
      graceEntries: 1,
      verifiedTokens: createFileVerifiedTokenStore(file),
    });
    const [a, b] = [stub.issueToken('alice'), stub.issueToken('alice')];
    await small.tokens.verify(a);
    await small.tokens.verify(b);
    await small.tokens.flush();
    expect((await createFileVerifiedTokenStore(file).load()).map((record) => record.backendHash)).toEqual([sha256(b)]);
    await small.tokens.close?.();
  });
});
