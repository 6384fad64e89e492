import { describe, expect, test } from 'vitest';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { builtinRules, Monitor, parseMeminfo, type AlertEvent, type HostMemory, type TenantUsage } from '@openclaw-mt/core/monitor';

const GiB = 1024 ** 3;

function setup(options: { usage?: () => Promise<TenantUsage[]> } = {}) {
  const host: HostMemory = { availableBytes: 8 * GiB, totalBytes: 16 * GiB };
  const manager = new TenantManager({ ...createMemoryAdapter(), capacity: 4, idleTimeoutMs: 0 });
  const monitor = new Monitor({
    manager,
    logStats: false,
    hostMemory: async () => ({ ...host }),
    ...(options.usage === undefined ? {} : { usage: options.usage }),
  });
  const events: AlertEvent[] = [];
  monitor.onAlert((event) => void events.push(event));
  return { manager, monitor, events, host };
}

describe('host memory', () => {
  test('MemAvailable and MemTotal are read from /proc/meminfo, in bytes', () => {
    const text = 'MemTotal:       24684020 kB\nMemFree:        20052872 kB\nMemAvailable:   23207948 kB\nBuffers:  1 kB\n';
    expect(parseMeminfo(text)).toEqual({ availableBytes: 23207948 * 1024, totalBytes: 24684020 * 1024 });
    expect(parseMeminfo('MemTotal: 10 kB\n')).toBeUndefined();
  });

  test('the alert fires once when available memory drops below the default threshold and resolves with headroom', async () => {
    const { monitor, events, host, manager } = setup();
    // Default threshold on a 16 GiB host: 1 GiB (10 % would be 1.6 GiB; the cap is 1 GiB).
    for (const available of [8 * GiB, 0.9 * GiB, 0.5 * GiB, 1.1 * GiB, 1.3 * GiB]) {
      host.availableBytes = available;
      await monitor.tick();
    }
    expect(events.filter((event) => event.rule === 'host-memory').map((event) => event.type)).toEqual(['fired', 'resolved']);
    const fired = events.find((event) => event.rule === 'host-memory' && event.type === 'fired')!;
    expect(fired.message).toBe('host memory available 922 MiB, below the 1024 MiB threshold');
    expect(monitor.lastSample()?.host).toEqual({ availableBytes: 1.3 * GiB, totalBytes: 16 * GiB });
    await manager.close();
  });

  test('an operator threshold replaces the default', async () => {
    const manager = new TenantManager({ ...createMemoryAdapter(), capacity: 4, idleTimeoutMs: 0 });
    const monitor = new Monitor({
      manager,
      logStats: false,
      rules: builtinRules({ hostMemory: { lowBytes: 4 * GiB } }),
      hostMemory: async () => ({ availableBytes: 3 * GiB, totalBytes: 16 * GiB }),
    });
    await monitor.tick();
    expect(monitor.activeAlerts().map((alert) => alert.rule)).toEqual(['host-memory']);
    await manager.close();
  });

  test("each sample carries the tenants' own processes, summed", async () => {
    const usage = async (): Promise<TenantUsage[]> => [
      { tenantId: 'a', rssBytes: 600, cpuSeconds: 1.25, diskBytes: 4096 },
      { tenantId: 'b', rssBytes: 400, cpuSeconds: 0.5, diskBytes: 8192 },
    ];
    const { monitor, manager } = setup({ usage });
    const sample = await monitor.tick();
    expect(sample.cells).toEqual({ tenants: 2, rssBytes: 1000, cpuSeconds: 1.75, diskBytes: 12288 });
    await manager.close();
  });
});
