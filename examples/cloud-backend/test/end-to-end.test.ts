import { afterEach, describe, expect, test } from 'vitest';
import { TenantManager, isMultiTenantError } from '@openclaw-mt/core';
import { checkCloudBackend, createCloudBackend, type CloudClock } from '@openclaw-mt/core/cloud';
import { createMemoryConfigSource, createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import { SECRETS, rawLogger, startBackend } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Sync timers under the test's control; HTTP stays real. */
function manualClock() {
  let time = Date.now();
  const timers = new Map<number, { at: number; callback: () => unknown }>();
  let next = 1;
  const clock: CloudClock & { advance(ms: number): Promise<void> } = {
    now: () => time,
    setTimeout(callback, ms) {
      timers.set(next, { at: time + ms, callback });
      return next++;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    async advance(ms) {
      const target = time + ms;
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        time = Math.max(time, due[1].at);
        await due[1].callback();
      }
      time = target;
    },
  };
  return clock;
}

describe('openclaw-mt against the example Cloud Backend', () => {
  test('register → token → authenticate → config change reaches the tenant within one interval → suspension evicts and denies', async () => {
    const env = await startBackend();
    cleanups.push(() => env.close());
    const { api } = env;
    const alice = await api.register('alice@example.com');
    const issued = await api.issueToken(alice.session, { label: 'laptop' });
    expect(issued.token).toMatch(/^gt_/);

    const clock = manualClock();
    const gatewayLog = rawLogger();
    const syncIntervalMs = 60_000;
    const cloud = createCloudBackend({
      url: env.url,
      serviceToken: SECRETS.serviceToken,
      lastKnownGood: createMemoryConfigSource(),
      clock,
      syncIntervalMs,
      logger: gatewayLog.logger,
    });
    const manager = new TenantManager({
      tokens: cloud.tokens,
      configs: cloud.configs,
      workspaces: createMemoryWorkspaceStore(),
      defaults: { model: 'operator-default' },
      idleTimeoutMs: 0,
      logger: gatewayLog.logger,
    });
    cleanups.push(() => manager.close());
    const events: string[] = [];
    manager.hooks.hook(
      'tenant:config-updated',
      ({ tenantId, version }) => void events.push(`config-updated ${tenantId === alice.userId} v${version}`),
    );
    manager.hooks.hook('tenant:suspended', ({ tenantId, status }) => void events.push(`suspended ${tenantId === alice.userId} ${status}`));
    manager.hooks.hook('tenant:evicted', ({ tenantId, reason }) => void events.push(`evicted ${tenantId === alice.userId} ${reason}`));
    const { first } = await cloud.attach(manager);
    expect(first).toMatchObject({ ok: true, applied: 1 });

    const auth = await manager.authenticate(issued.token);
    expect(auth.tenantId).toBe(alice.userId);
    const lease = await manager.acquire(auth.tenantId);
    expect(lease.config).toEqual({ model: 'operator-default' });

    const patched = await api.call('PATCH', '/me/config', {
      bearer: alice.session,
      body: { config: { model: 'gpt-4o', tools: { web: true } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.version).toBe(2);
    await clock.advance(syncIntervalMs);
    expect(lease.config).toEqual({ model: 'gpt-4o', tools: { web: true } });
    expect(lease.configVersion).toBe(2);

    expect((await api.admin('suspend', alice.userId)).status).toBe(200);
    await clock.advance(syncIntervalMs);
    expect(manager.isActive(alice.userId)).toBe(false);
    const denied = await manager.authenticate(issued.token).catch((error: unknown) => error);
    expect(isMultiTenantError(denied) && denied.code).toBe('TENANT_SUSPENDED');
    lease.release();
    expect(events).toEqual(['config-updated true v2', 'suspended true suspended', 'evicted true suspended']);

    // Resumed: the same token works again.
    expect((await api.admin('resume', alice.userId)).status).toBe(200);
    await clock.advance(syncIntervalMs);
    expect((await manager.authenticate(issued.token)).tenantId).toBe(alice.userId);

    for (const line of [...env.log.lines, ...gatewayLog.lines]) {
      expect(line).not.toContain(issued.token);
      expect(line).not.toContain(SECRETS.serviceToken);
      expect(line).not.toContain(alice.session);
    }
  });

  test('checkCloudBackend passes every point against the example backend', async () => {
    const env = await startBackend();
    cleanups.push(() => env.close());
    const { api } = env;
    for (let i = 0; i < 5; i++) await api.register(`user${i}@example.com`);
    const active = await api.register('active@example.com');
    const suspended = await api.register('suspended@example.com');
    const token = (await api.issueToken(active.session)).token;
    const suspendedToken = (await api.issueToken(suspended.session)).token;
    await api.admin('suspend', suspended.userId);

    // A revoked token puts a token event (v1.1) in the feed, which the checker validates too.
    const revoked = await api.issueToken(active.session);
    expect((await api.call('DELETE', `/openclaw/gateway/tokens/${revoked.tokenId}`, { bearer: active.session })).status).toBe(204);

    const report = await checkCloudBackend({ url: env.url, serviceToken: SECRETS.serviceToken, token, suspendedToken });
    // Only what a backend cannot show to a checker is skipped: status changes and pushes happen over time.
    expect(report.points.filter((point) => point.status !== 'pass').map((point) => `${point.id}: ${point.status}`)).toEqual([
      'configs.status-changes: skipped',
      'push: skipped',
    ]);
    expect(report.ok).toBe(true);
    expect(report.points.map((point) => point.id)).toEqual([
      'routes.exist',
      'service-token.accepted',
      'service-token.required',
      'service-token.checked',
      'verify.unknown-token',
      'token-in-url.refused',
      'token.format',
      'verify.valid-token',
      'verify.suspended-token',
      'configs.field-names',
      'configs.token-events',
      'configs.status-changes',
      'configs.versions',
      'configs.cursor-advances',
      'configs.pagination-terminates',
      'configs.has-more-consistent',
      'configs.etag',
      'configs.bad-cursor',
      'push',
    ]);
    for (const line of env.log.lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(suspendedToken);
    }
  });
});
