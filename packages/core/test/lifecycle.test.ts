import { afterEach, describe, expect, test } from 'vitest';
import { isMultiTenantError, type Lease, type TenantManager } from '@openclaw-mt/core';
import { createTestManager, deferred, sleep } from './support/fixture.js';

let current: TenantManager | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

function setup(options: Parameters<typeof createTestManager>[0] = {}) {
  const built = createTestManager(options);
  current = built.manager;
  return built;
}

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isMultiTenantError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('acquire and release', () => {
  test('a lease carries the workspace and the config merged over the operator defaults', async () => {
    const { manager, adapter } = setup({ defaults: { model: 'default-model', limits: { rpm: 60, connections: 5 } } });
    await adapter.configs.set('alice', { config: { limits: { rpm: 120 } } });
    const lease = await manager.acquire('alice');
    expect(lease.config).toEqual({ model: 'default-model', limits: { rpm: 120, connections: 5 } });
    expect(lease.configVersion).toBe(1);
    await lease.workspace.write('workspace/USER.md', 'Alice');
    expect(new TextDecoder().decode(await lease.workspace.read('workspace/USER.md'))).toBe('Alice');
    lease.release();
    lease.release();
    expect(lease.released).toBe(true);
    expect(manager.stats().pinned).toBe(0);
  });

  test('tryAcquire leases only tenants that are already active', async () => {
    const { manager } = setup();
    expect(manager.tryAcquire('kim')).toBeUndefined();
    const first = await manager.acquire('kim');
    const second = manager.tryAcquire('kim');
    expect(second?.workspace).toBe(first.workspace);
    expect(manager.stats().pinned).toBe(1);
    expect(manager.activeTenants()[0]?.pins).toBe(2);
    first.release();
    second?.release();
    expect(manager.activeTenants()[0]?.pins).toBe(0);
  });

  test('invalid tenant ids fail with TENANT_ID_INVALID and activate nothing', async () => {
    const { manager } = setup();
    for (const id of ['../x', '', 'a/b', '.hidden']) {
      expect((await errorOf(manager.acquire(id))).code).toBe('TENANT_ID_INVALID');
    }
    expect(manager.stats().resident).toBe(0);
  });

  test('concurrent acquires of one tenant share one activation', async () => {
    let activations = 0;
    const { manager } = setup({ hooks: { 'tenant:activate': () => void activations++ } });
    const leases = await Promise.all(Array.from({ length: 100 }, () => manager.acquire('bob')));
    expect(activations).toBe(1);
    expect(new Set(leases.map((lease) => lease.workspace)).size).toBe(1);
    expect(manager.activeTenants()).toEqual([expect.objectContaining({ tenantId: 'bob', pins: 100 })]);
    for (const lease of leases) lease.release();
  });

  test('a failed activation is rolled back, shared by its joiners, and retried on the next acquire', async () => {
    let fail = true;
    let attempts = 0;
    const { manager } = setup({
      hooks: {
        'tenant:activated': () => {
          attempts++;
          if (fail) throw new Error('runtime failed to start');
        },
      },
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => manager.acquire('carl')));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(attempts).toBe(1);
    expect(manager.stats()).toMatchObject({ resident: 0, pinned: 0, activationFailures: 1 });
    fail = false;
    const lease = await manager.acquire('carl');
    expect(lease.tenantId).toBe('carl');
    lease.release();
  });

  test('suspended and deleted tenants cannot be activated', async () => {
    const { manager, adapter } = setup();
    await adapter.configs.set('sus', { status: 'suspended' });
    await adapter.configs.set('gone', { status: 'deleted' });
    expect((await errorOf(manager.acquire('sus'))).code).toBe('TENANT_SUSPENDED');
    expect((await errorOf(manager.acquire('gone'))).code).toBe('TENANT_UNKNOWN');
  });

  test('an invalid stored config fails activation with CONFIG_INVALID', async () => {
    const { manager, adapter } = setup({
      validateConfig: (config) => {
        if (typeof config.model !== 'string') throw Object.assign(new Error('model must be a string'), { code: 'x' });
        return config;
      },
    });
    await adapter.configs.set('dora', { config: { model: 42 } });
    const error = await errorOf(manager.acquire('dora'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('model must be a string');
    expect(manager.stats().resident).toBe(0);
  });
});

describe('capacity', () => {
  test('at capacity the least recently used idle tenant is evicted, with reason lru', async () => {
    const evicted: Array<[string, string]> = [];
    const { manager } = setup({
      capacity: 2,
      hooks: { 'tenant:evicted': ({ tenantId, reason }) => void evicted.push([tenantId, reason]) },
    });
    (await manager.acquire('a')).release();
    (await manager.acquire('b')).release();
    (await manager.acquire('a')).release();
    (await manager.acquire('c')).release();
    expect(evicted).toEqual([['b', 'lru']]);
    expect(
      manager
        .activeTenants()
        .map((t) => t.tenantId)
        .sort(),
    ).toEqual(['a', 'c']);
  });

  test('when every slot is pinned, acquire fails with a retryable CAPACITY error carrying retryAfterMs', async () => {
    const { manager } = setup({ capacity: 2, retryAfterMs: 750 });
    const held = [await manager.acquire('a'), await manager.acquire('b')];
    const error = await errorOf(manager.acquire('c'));
    expect(error.code).toBe('CAPACITY');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(750);
    expect(
      manager
        .activeTenants()
        .map((t) => t.tenantId)
        .sort(),
    ).toEqual(['a', 'b']);
    held[0]!.release();
    const lease = await manager.acquire('c');
    expect(manager.isActive('a')).toBe(false);
    lease.release();
    held[1]!.release();
  });

  test('with whenFull wait, acquires queue until a slot frees, and the queue is bounded', async () => {
    const { manager } = setup({ capacity: 1, whenFull: 'wait', queue: { maxLength: 2, timeoutMs: 5_000 } });
    const held = await manager.acquire('a');
    const waiting = [manager.acquire('b'), manager.acquire('c')];
    await sleep(10);
    expect(manager.stats().queued).toBe(2);
    expect((await errorOf(manager.acquire('d'))).code).toBe('CAPACITY');
    held.release();
    const b = await waiting[0]!;
    expect(b.tenantId).toBe('b');
    b.release();
    const c = await waiting[1]!;
    expect(c.tenantId).toBe('c');
    c.release();
  });

  test('queued acquires time out with CAPACITY', async () => {
    const { manager } = setup({ capacity: 1, whenFull: 'wait', queue: { timeoutMs: 50 } });
    const held = await manager.acquire('a');
    const error = await errorOf(manager.acquire('b'));
    expect(error.code).toBe('CAPACITY');
    held.release();
  });
});

describe('eviction', () => {
  test('idle tenants are evicted after the idle timeout; pinned ones never', async () => {
    const evicted: string[] = [];
    const { manager } = setup({
      idleTimeoutMs: 40,
      hooks: { 'tenant:evicted': ({ tenantId, reason }) => void evicted.push(`${tenantId}:${reason}`) },
    });
    (await manager.acquire('idle')).release();
    const pinned = await manager.acquire('busy');
    await sleep(150);
    expect(evicted).toEqual(['idle:idle']);
    expect(manager.isActive('busy')).toBe(true);
    pinned.release();
    await sleep(150);
    expect(evicted).toEqual(['idle:idle', 'busy:idle']);
  });

  test('use postpones idle eviction', async () => {
    const { manager } = setup({ idleTimeoutMs: 80 });
    (await manager.acquire('kept')).release();
    for (let i = 0; i < 6; i++) {
      await sleep(30);
      (await manager.acquire('kept')).release();
    }
    expect(manager.isActive('kept')).toBe(true);
  });

  test('evict refuses a pinned tenant unless forced, and reports the reason', async () => {
    const reasons: string[] = [];
    const { manager } = setup({ hooks: { 'tenant:evict': ({ reason }) => void reasons.push(reason) } });
    const lease = await manager.acquire('e');
    expect((await errorOf(manager.evict('e'))).code).toBe('TENANT_BUSY');
    expect(await manager.evict('e', { force: true, reason: 'revoked' })).toBe(true);
    expect(reasons).toEqual(['revoked']);
    expect(manager.isActive('e')).toBe(false);
    lease.release();
    expect(manager.stats().pinned).toBe(0);
    expect(await manager.evict('e')).toBe(false);
  });

  test('workspace writes survive eviction and reactivation', async () => {
    const { manager } = setup();
    const lease = await manager.acquire('f');
    await lease.workspace.write('workspace/MEMORY.md', 'remember this');
    lease.release();
    await manager.evict('f');
    const again = await manager.acquire('f');
    expect(new TextDecoder().decode(await again.workspace.read('workspace/MEMORY.md'))).toBe('remember this');
    again.release();
  });

  test('evictIdle evicts exactly the unpinned tenants', async () => {
    const { manager } = setup();
    (await manager.acquire('x')).release();
    (await manager.acquire('y')).release();
    const held = await manager.acquire('z');
    expect(await manager.evictIdle()).toBe(2);
    expect(manager.activeTenants().map((t) => t.tenantId)).toEqual(['z']);
    held.release();
  });
});

describe('config changes', () => {
  test('a newer config reaches the active tenant and its leases; stale versions are ignored', async () => {
    const updates: Array<{ version: number; previousVersion: number }> = [];
    const { manager, adapter } = setup({
      defaults: { model: 'm0' },
      hooks: { 'tenant:config-updated': ({ version, previousVersion }) => void updates.push({ version, previousVersion }) },
    });
    await adapter.configs.set('g', { config: { theme: 'dark' } });
    const lease = await manager.acquire('g');
    await adapter.configs.set('g', { config: { theme: 'light' } });
    await sleep(0);
    expect(lease.config).toEqual({ model: 'm0', theme: 'light' });
    expect(updates).toEqual([{ version: 2, previousVersion: 1 }]);
    await manager.applyConfig({ tenantId: 'g', status: 'active', config: { theme: 'stale' }, version: 1, updatedAt: 0 });
    expect(lease.config.theme).toBe('light');
    lease.release();
  });

  test('an invalid config update is rejected and the tenant keeps its config', async () => {
    const { manager } = setup();
    const lease = await manager.acquire('h');
    const error = await errorOf(
      manager.applyConfig({ tenantId: 'h', status: 'active', config: { bad: Number.NaN } as never, version: 9, updatedAt: 0 }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(lease.configVersion).toBe(0);
    lease.release();
  });

  test('suspension evicts an active tenant (forcibly) after announcing it once', async () => {
    const events: string[] = [];
    const { manager } = setup({
      hooks: {
        'tenant:suspended': ({ tenantId }) => void events.push(`suspended:${tenantId}`),
        'tenant:evicted': ({ tenantId, reason }) => void events.push(`evicted:${tenantId}:${reason}`),
      },
    });
    const lease = await manager.acquire('i');
    await manager.suspend('i');
    expect(events).toEqual(['suspended:i', 'evicted:i:suspended']);
    expect(manager.isActive('i')).toBe(false);
    lease.release();
    expect((await errorOf(manager.acquire('i'))).code).toBe('TENANT_SUSPENDED');
  });
});

describe('close', () => {
  test('drains: waits for leases, evicts everything with reason shutdown, then refuses work', async () => {
    const events: string[] = [];
    const { manager } = setup({
      drainTimeoutMs: 2_000,
      hooks: {
        'tenant:evicted': ({ tenantId, reason }) => void events.push(`${tenantId}:${reason}`),
        close: () => void events.push('close'),
      },
    });
    const lease: Lease = await manager.acquire('j');
    (await manager.acquire('k')).release();
    const closing = manager.close();
    await sleep(30);
    expect(events).toEqual([]);
    expect((await errorOf(manager.acquire('k'))).code).toBe('CLOSED');
    lease.release();
    await closing;
    expect(events.sort()).toEqual(['close', 'j:shutdown', 'k:shutdown']);
    expect((await errorOf(manager.authenticate('gt_x'))).code).toBe('CLOSED');
    current = undefined;
  });

  test('close gives up waiting for pins after drainTimeoutMs', async () => {
    const { manager } = setup({ drainTimeoutMs: 50 });
    await manager.acquire('stuck');
    await manager.close();
    expect(manager.isActive('stuck')).toBe(false);
    current = undefined;
  });

  test('a waiting acquire is rejected with CLOSED when the manager closes', async () => {
    const { manager } = setup({ capacity: 1, whenFull: 'wait', drainTimeoutMs: 10 });
    const held = await manager.acquire('a');
    const waiting = manager.acquire('b');
    const gate = deferred();
    setTimeout(() => gate.resolve(), 5);
    await gate.promise;
    const closing = manager.close();
    expect((await errorOf(waiting)).code).toBe('CLOSED');
    held.release();
    await closing;
    current = undefined;
  });
});
