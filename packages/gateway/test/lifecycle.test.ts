import { afterEach, describe, expect, test } from 'vitest';
import { connectGateway, GatewayRequestError, type GatewayConnection } from '@openclaw-mt/gateway';
import { sleep, startGateway } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function setup(options: Parameters<typeof startGateway>[0] = {}) {
  const started = await startGateway(options);
  stops.push(started.stop);
  return started;
}

describe('front door and the tenant lifecycle', () => {
  test('200 tenants against capacity 50: the excess get a retryable error, never another tenant’s context', async () => {
    const evictedWhilePinned: string[] = [];
    const open = new Map<string, number>();
    const { manager, url } = await setup({
      manager: {
        capacity: 50,
        hooks: {
          'tenant:evict': ({ tenantId, reason }) => {
            if ((open.get(tenantId) ?? 0) > 0 && reason !== 'shutdown') evictedWhilePinned.push(tenantId);
          },
        },
      },
    });
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => manager.tokens.create(`user-${i}`)));
    const outcomes = await Promise.allSettled(
      tokens.map(async ({ token, record }) => {
        const connection = await connectGateway({ url, token });
        open.set(record.tenantId, (open.get(record.tenantId) ?? 0) + 1);
        return { connection, tenantId: record.tenantId };
      }),
    );
    const connected = outcomes
      .filter((o) => o.status === 'fulfilled')
      .map((o) => (o as PromiseFulfilledResult<{ connection: GatewayConnection; tenantId: string }>).value);
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as GatewayRequestError);
    expect(connected).toHaveLength(50);
    expect(refused).toHaveLength(150);
    for (const error of refused) {
      expect(error.code).toBe('CAPACITY');
      expect(error.shape).toMatchObject({ code: 'UNAVAILABLE', retryable: true, retryAfterMs: expect.any(Number) });
      expect(error.closeCode).toBe(1013);
    }
    // Every connection sees exactly its own tenant.
    for (const { connection, tenantId } of connected) {
      expect(connection.hello.snapshot).toMatchObject({ tenantId });
      expect(await connection.request('health')).toMatchObject({ tenantId });
    }
    expect(manager.stats()).toMatchObject({ resident: 50, pinned: 50 });
    // Freeing slots lets refused tenants in, evicting only unpinned ones.
    for (const { connection, tenantId } of connected.slice(0, 10)) {
      connection.close();
      await connection.closed;
      open.set(tenantId, 0);
    }
    await sleep(20);
    const late = await Promise.all(tokens.slice(150, 160).map(({ token }) => connectGateway({ url, token })));
    expect(evictedWhilePinned).toEqual([]);
    for (const connection of [...late, ...connected.slice(10).map((c) => c.connection)]) connection.close();
  });

  test('a revoked token’s open socket is closed within 1 s; other tokens of the tenant stay connected', async () => {
    const { manager, url } = await setup();
    const first = await manager.tokens.create('rita');
    const second = await manager.tokens.create('rita');
    const doomed = await connectGateway({ url, token: first.token });
    const kept = await connectGateway({ url, token: second.token });
    const started = Date.now();
    await manager.tokens.revoke(first.record.tokenHash);
    const closed = await doomed.closed;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(closed).toEqual({ code: 1008, reason: 'token revoked' });
    expect(await kept.request('health')).toMatchObject({ ok: true });
    const again = await connectGateway({ url, token: first.token }).catch((error: GatewayRequestError) => error);
    expect((again as GatewayRequestError).code).toBe('TOKEN_REVOKED');
    kept.close();
  });

  test('suspending a tenant closes all its connections and denies new ones', async () => {
    const { manager, url } = await setup();
    const { token } = await manager.tokens.create('sam');
    const connections = await Promise.all([1, 2].map(() => connectGateway({ url, token })));
    await manager.suspend('sam');
    for (const connection of connections) expect((await connection.closed).code).toBe(1008);
    const denied = await connectGateway({ url, token }).catch((error: GatewayRequestError) => error);
    expect((denied as GatewayRequestError).code).toBe('TENANT_SUSPENDED');
  });

  test('idle tenants are evicted after the idle timeout once their connections close', async () => {
    const evicted: string[] = [];
    const { manager, url } = await setup({
      manager: { idleTimeoutMs: 100, hooks: { 'tenant:evicted': ({ tenantId, reason }) => void evicted.push(`${tenantId}:${reason}`) } },
    });
    const { token } = await manager.tokens.create('ida');
    const connection = await connectGateway({ url, token });
    await sleep(250);
    expect(evicted).toEqual([]);
    connection.close();
    await connection.closed;
    await sleep(300);
    expect(evicted).toEqual(['ida:idle']);
  });

  test('an in-flight request pins its tenant even after its socket closes', async () => {
    const { createWorkspaceRuntime } = await import('@openclaw-mt/gateway');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runtime = createWorkspaceRuntime({
      agent: async () => {
        await gate;
        return 'late';
      },
    });
    const { manager, url } = await setup({ gateway: { runtime } });
    const { token } = await manager.tokens.create('pia');
    const connection = await connectGateway({ url, token });
    void connection.request('chat.send', { message: 'slow' }).catch(() => undefined);
    await sleep(30);
    connection.close();
    await connection.closed;
    await sleep(20);
    expect(manager.activeTenants()).toEqual([expect.objectContaining({ tenantId: 'pia', pins: 1 })]);
    await expect(manager.evict('pia')).rejects.toMatchObject({ code: 'TENANT_BUSY' });
    release();
    await sleep(30);
    expect(manager.activeTenants()[0]?.pins).toBe(0);
  });

  test('graceful shutdown: a shutdown event, in-flight requests answered, new ones refused, then close 1012', async () => {
    const { createWorkspaceRuntime, createGateway } = await import('@openclaw-mt/gateway');
    const { TenantManager, createMemoryAdapter } = await import('@openclaw-mt/core');
    const runtime = createWorkspaceRuntime({
      agent: async () => {
        await sleep(150);
        return 'finished';
      },
    });
    const manager = new TenantManager({ ...createMemoryAdapter(), idleTimeoutMs: 0 });
    const gateway = createGateway({ manager, runtime, port: 0, drainTimeoutMs: 2_000 });
    const { url } = await gateway.listen();
    const { token } = await manager.tokens.create('sid');
    const connection = await connectGateway({ url, token });
    const events: string[] = [];
    connection.onEvent((event) => events.push(event.event));
    const inFlight = connection.request<{ reply: string }>('chat.send', { message: 'x' });
    await sleep(30);
    const closing = gateway.close('maintenance');
    await sleep(10);
    expect(events).toContain('shutdown');
    // Refused as retryable: the client reconnects and the request succeeds on another node.
    await expect(connection.request('health')).rejects.toMatchObject({
      code: 'CLOSED',
      shape: { code: 'UNAVAILABLE', retryable: true, retryAfterMs: 1_000 },
    });
    // A new connection while the node drains is refused as retryable too (the listener is closed, or a 503).
    await expect(connectGateway({ url, token, timeoutMs: 1_000 })).rejects.toMatchObject({
      shape: { code: 'UNAVAILABLE', retryable: true },
    });
    expect((await inFlight).reply).toBe('finished');
    expect(await connection.closed).toEqual({ code: 1012, reason: 'maintenance' });
    await closing;
    expect(manager.stats().resident).toBe(0);
    await expect(connectGateway({ url, token, timeoutMs: 1_000 })).rejects.toBeInstanceOf(GatewayRequestError);
  });
});
