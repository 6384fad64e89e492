import { describe, expect, test } from 'vitest';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { Monitor, totalUsage, type AlertEvent, type AlertRule } from '@openclaw-mt/core/monitor';

function setup(rules?: AlertRule[], options: { handlerTimeoutMs?: number } = {}) {
  let now = 1_000_000;
  const memory = { rss: 100, heapUsed: 10, heapLimit: 100 };
  const manager = new TenantManager({ ...createMemoryAdapter(), capacity: 4, idleTimeoutMs: 0 });
  const monitor = new Monitor({
    manager,
    logStats: false,
    now: () => now,
    memory: () => ({ ...memory }),
    ...(rules ? { rules } : {}),
    ...options,
  });
  const events: AlertEvent[] = [];
  monitor.onAlert((event) => void events.push(event));
  return { manager, monitor, events, memory, advance: (ms: number) => (now += ms) };
}

describe('monitor', () => {
  test('a memory episode fires once and resolves once, despite hovering around the threshold', async () => {
    const { monitor, events, memory, advance, manager } = setup();
    const heap = [10, 95, 92, 89, 91, 85, 81, 79, 85, 70];
    for (const value of heap) {
      memory.heapUsed = value;
      advance(1_000);
      await monitor.tick();
    }
    const memoryEvents = events.filter((event) => event.rule === 'memory').map((event) => `${event.type}@${event.value}`);
    expect(memoryEvents).toEqual(['fired@0.95', 'resolved@0.79']);
    expect(monitor.activeAlerts()).toEqual([]);
    await manager.close();
  });

  test('capacity saturation needs two consecutive ticks, then stays one alert until it clears', async () => {
    const { monitor, events, manager, advance } = setup();
    const leases = await Promise.all(['a', 'b', 'c', 'd'].map((id) => manager.acquire(id)));
    for (let i = 0; i < 4; i++) {
      advance(1_000);
      await monitor.tick();
    }
    expect(events.filter((event) => event.rule === 'capacity').map((event) => event.type)).toEqual(['fired']);
    expect(monitor.activeAlerts().map((alert) => alert.rule)).toEqual(['capacity']);
    for (const lease of leases) lease.release();
    advance(1_000);
    await monitor.tick();
    expect(events.filter((event) => event.rule === 'capacity').map((event) => event.type)).toEqual(['fired', 'resolved']);
    await manager.close();
  });

  test('auth-failure spikes are measured per minute from the counters', async () => {
    const { monitor, events, manager, advance } = setup();
    await monitor.tick();
    for (let i = 0; i < 30; i++) await manager.authenticate('gt_bad').catch(() => undefined);
    advance(10_000);
    await monitor.tick();
    expect(events.find((event) => event.rule === 'auth-failures')).toMatchObject({ type: 'fired', value: 180 });
    advance(60_000);
    await monitor.tick();
    expect(events.filter((event) => event.rule === 'auth-failures').map((event) => event.type)).toEqual(['fired', 'resolved']);
    await manager.close();
  });

  test('sync outages follow the sync hooks', async () => {
    const { monitor, events, manager, advance } = setup();
    await manager.hooks.callHook('sync:failed', { error: new Error('down') as never, attempt: 1 });
    advance(1_000);
    await monitor.tick();
    advance(1_000);
    await monitor.tick();
    await manager.hooks.callHook('sync:recovered', { downtimeMs: 2_000 });
    advance(1_000);
    await monitor.tick();
    expect(events.filter((event) => event.rule === 'sync').map((event) => event.type)).toEqual(['fired', 'resolved']);
    await manager.close();
  });

  test('a throwing or hanging handler does not stop the others', async () => {
    const rule: AlertRule = { id: 'always', description: 'test', measure: () => 1, fireAt: 1, resolveAt: 0, message: () => 'on' };
    const { monitor, manager } = setup([rule], { handlerTimeoutMs: 50 });
    const seen: string[] = [];
    monitor.onAlert(() => {
      throw new Error('broken handler');
    });
    monitor.onAlert(() => new Promise(() => undefined));
    monitor.onAlert((event) => void seen.push(event.rule));
    await monitor.tick();
    expect(seen).toEqual(['always']);
    await manager.close();
  });

  test('rules with resolveAt above fireAt are refused', () => {
    const manager = new TenantManager(createMemoryAdapter());
    expect(
      () => new Monitor({ manager, rules: [{ id: 'x', description: '', measure: () => 0, fireAt: 1, resolveAt: 2, message: () => '' }] }),
    ).toThrow(RangeError);
  });
});

describe("tenants' process costs added up", () => {
  const MiB = 2 ** 20;
  test('sums memory, CPU and disk; the anonymous memory only when every tenant has it', () => {
    const a = { tenantId: 'a', rssBytes: 500 * MiB, anonBytes: 440 * MiB, cpuSeconds: 1.25, diskBytes: 10 };
    const b = { tenantId: 'b', rssBytes: 600 * MiB, anonBytes: 530 * MiB, cpuSeconds: 2.5, diskBytes: 20 };
    expect(totalUsage([a, b])).toEqual({ tenants: 2, rssBytes: 1100 * MiB, anonBytes: 970 * MiB, cpuSeconds: 3.75, diskBytes: 30 });
    // A sum over some tenants only would read as the whole: none then.
    const { anonBytes: _, ...unmeasured } = b;
    expect(totalUsage([a, unmeasured])).not.toHaveProperty('anonBytes');
    expect(totalUsage([])).toEqual({ tenants: 0, rssBytes: 0, cpuSeconds: 0, diskBytes: 0 });
  });
});
