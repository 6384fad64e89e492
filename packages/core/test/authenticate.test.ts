import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { createToken } from '@openclaw-mt/core/tokens';
import { isMultiTenantError, type TenantManager } from '@openclaw-mt/core';
import { createTestManager, deferred } from './support/fixture.js';

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

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return isMultiTenantError(error) ? error.code : `not coded: ${String(error)}`;
  }
}

describe('authenticate', () => {
  test('a created token authenticates as its tenant; the store only ever sees the hash', async () => {
    const { manager, adapter } = setup();
    const { token, record } = await manager.tokens.create('alice', { label: 'laptop' });
    const result = await manager.authenticate(token);
    expect(result).toMatchObject({ tenantId: 'alice', tokenHash: record.tokenHash, label: 'laptop' });
    const stored = await adapter.memoryTokens.listByTenant('alice');
    expect(JSON.stringify(stored)).not.toContain(token);
  });

  test('malformed tokens fail with TOKEN_MALFORMED before any lookup', async () => {
    const { manager, adapter } = setup();
    for (const bad of ['', 'gt_short', 'Bearer x', `${createToken().slice(0, -1)}!`, 42]) {
      expect(await codeOf(manager.authenticate(bad))).toBe('TOKEN_MALFORMED');
    }
    expect(adapter.control.lookups).toBe(0);
  });

  test('random strings never authenticate', async () => {
    const { manager } = setup();
    await manager.tokens.create('alice');
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.stringMatching(/^gt_[0-9A-Za-z]{36,50}$/)), async (input) => {
        const code = await codeOf(manager.authenticate(input));
        expect(['TOKEN_MALFORMED', 'TOKEN_UNKNOWN']).toContain(code);
      }),
      { numRuns: 500 },
    );
  });

  test('valid answers are cached; expiry is still checked on every hit', async () => {
    let now = 1_000_000;
    const { manager, adapter } = setup({ now: () => now, authCache: { ttlMs: 60_000 } });
    const { token } = await manager.tokens.create('bob', { ttlMs: 5_000 });
    await manager.authenticate(token);
    await manager.authenticate(token);
    expect(adapter.control.lookups).toBe(1);
    now += 5_001;
    expect(await codeOf(manager.authenticate(token))).toBe('TOKEN_EXPIRED');
  });

  test('cached answers expire after their TTL', async () => {
    let now = 1_000_000;
    const { manager, adapter } = setup({ now: () => now, authCache: { ttlMs: 1_000, negativeTtlMs: 1_000 } });
    const { token } = await manager.tokens.create('bob');
    await manager.authenticate(token);
    now += 1_001;
    await manager.authenticate(token);
    expect(adapter.control.lookups).toBe(2);
    const unknown = createToken();
    await codeOf(manager.authenticate(unknown));
    await codeOf(manager.authenticate(unknown));
    expect(adapter.control.lookups).toBe(3);
    now += 1_001;
    await codeOf(manager.authenticate(unknown));
    expect(adapter.control.lookups).toBe(4);
  });

  test('unknown tokens are cached negatively; store errors are never cached', async () => {
    const { manager, adapter } = setup();
    const unknown = createToken();
    expect(await codeOf(manager.authenticate(unknown))).toBe('TOKEN_UNKNOWN');
    expect(await codeOf(manager.authenticate(unknown))).toBe('TOKEN_UNKNOWN');
    expect(adapter.control.lookups).toBe(1);
    const { token } = await manager.tokens.create('carol');
    adapter.control.fail = true;
    expect(await codeOf(manager.authenticate(token))).toBe('BACKEND_UNAVAILABLE');
    adapter.control.fail = false;
    expect((await manager.authenticate(token)).tenantId).toBe('carol');
  });

  test('concurrent misses for one token share one lookup', async () => {
    const { manager, adapter } = setup();
    const { token } = await manager.tokens.create('dave');
    const gate = deferred();
    adapter.control.gate = gate.promise;
    const pending = Array.from({ length: 50 }, () => manager.authenticate(token));
    gate.resolve();
    const results = await Promise.all(pending);
    expect(new Set(results.map((r) => r.tenantId))).toEqual(new Set(['dave']));
    expect(adapter.control.lookups).toBe(1);
  });

  test('revocation takes effect at once, even over a cached positive answer', async () => {
    const revoked: string[] = [];
    const { manager } = setup({ hooks: { 'token:revoked': ({ tokenHash }) => void revoked.push(tokenHash) } });
    const { token, record } = await manager.tokens.create('erin');
    await manager.authenticate(token);
    await manager.tokens.revoke(token);
    expect(await codeOf(manager.authenticate(token))).toBe('TOKEN_REVOKED');
    expect(revoked).toEqual([record.tokenHash]);
  });

  test('a revocation during an in-flight lookup is not overwritten by its stale answer', async () => {
    const { manager, adapter } = setup();
    const { token } = await manager.tokens.create('fay');
    const gate = deferred();
    adapter.control.gate = gate.promise;
    const inFlight = manager.authenticate(token);
    await adapter.memoryTokens.revoke((await manager.tokens.list('fay'))[0]!.tokenHash);
    gate.resolve();
    await inFlight.catch(() => undefined);
    adapter.control.gate = undefined;
    expect(await codeOf(manager.authenticate(token))).toBe('TOKEN_REVOKED');
  });

  test('rotation: old and new both work during the grace period, only the new one after', async () => {
    let now = 5_000_000;
    const { manager } = setup({ now: () => now });
    const { token: old } = await manager.tokens.create('gus');
    await manager.authenticate(old);
    const { token: fresh } = await manager.tokens.rotate(old, { graceMs: 60_000 });
    expect((await manager.authenticate(old)).tenantId).toBe('gus');
    expect((await manager.authenticate(fresh)).tenantId).toBe('gus');
    now += 60_001;
    expect(await codeOf(manager.authenticate(old))).toBe('TOKEN_EXPIRED');
    expect((await manager.authenticate(fresh)).tenantId).toBe('gus');
  });

  test('suspension denies new auths over a cached answer; resumption restores them', async () => {
    const suspended: string[] = [];
    const { manager } = setup({ hooks: { 'tenant:suspended': ({ tenantId }) => void suspended.push(tenantId) } });
    const { token } = await manager.tokens.create('hal');
    await manager.authenticate(token);
    await manager.suspend('hal');
    expect(await codeOf(manager.authenticate(token))).toBe('TENANT_SUSPENDED');
    expect(suspended).toEqual(['hal']);
    await manager.resume('hal');
    expect((await manager.authenticate(token)).tenantId).toBe('hal');
  });

  test('peppers: tokens issued under an older pepper still authenticate after rotation', async () => {
    const built = setup({ peppers: ['old-pepper-0123456789abcdef'] });
    const { token } = await built.manager.tokens.create('ivy');
    const rotated = createTestManager({ peppers: ['new-pepper-0123456789abcdef', 'old-pepper-0123456789abcdef'] });
    // Same stores, new manager: reuse the first adapter's stores.
    const { TenantManager } = await import('@openclaw-mt/core');
    const second = new TenantManager({
      tokens: built.adapter.tokens,
      configs: built.adapter.configs,
      workspaces: built.adapter.workspaces,
      peppers: ['new-pepper-0123456789abcdef', 'old-pepper-0123456789abcdef'],
    });
    expect((await second.authenticate(token)).tenantId).toBe('ivy');
    const withoutOld = new TenantManager({
      tokens: built.adapter.tokens,
      configs: built.adapter.configs,
      workspaces: built.adapter.workspaces,
      peppers: ['new-pepper-0123456789abcdef'],
    });
    expect(await codeOf(withoutOld.authenticate(token))).toBe('TOKEN_UNKNOWN');
    await rotated.manager.close();
  });

  test('auth:failed carries a code and a redacted hint, never the token', async () => {
    const failures: Array<{ code: string; tokenHint: string }> = [];
    const { manager } = setup({ hooks: { 'auth:failed': (event) => void failures.push(event) } });
    const unknown = createToken();
    await codeOf(manager.authenticate(unknown));
    expect(failures).toEqual([{ code: 'TOKEN_UNKNOWN', tokenHint: `gt_…${unknown.slice(-4)}` }]);
    expect(JSON.stringify(failures)).not.toContain(unknown.slice(3, 30));
  });

  test('single-user mode resolves every valid token to the one default tenant and still rejects bad ones', async () => {
    const { manager } = setup({ singleTenant: 'default' });
    const { token } = await manager.tokens.create('whoever');
    expect((await manager.authenticate(token)).tenantId).toBe('default');
    expect(await codeOf(manager.authenticate(createToken()))).toBe('TOKEN_UNKNOWN');
    const lease = await manager.acquire('anyone');
    expect(lease.tenantId).toBe('default');
    lease.release();
  });

  test('authenticateCached answers synchronously only from a fresh positive entry', async () => {
    let now = 1_000;
    const { manager } = setup({ now: () => now, authCache: { ttlMs: 100 } });
    const { token } = await manager.tokens.create('jo');
    expect(manager.authenticateCached(token)).toBeUndefined();
    expect(manager.authenticateCached('garbage')).toBeUndefined();
    await manager.authenticate(token);
    expect(manager.authenticateCached(token)?.tenantId).toBe('jo');
    now += 101;
    expect(manager.authenticateCached(token)).toBeUndefined();
    await manager.authenticate(token);
    await manager.tokens.revoke(token);
    expect(manager.authenticateCached(token)).toBeUndefined();
  });
});
