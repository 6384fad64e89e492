import type { AlertRule, MonitorSample } from './alert-rule.js';

/** Thresholds of the built-in rules; each can be tuned or the rule replaced. */
export interface BuiltinRuleOptions {
  /** Heap in use as a fraction of the heap limit (default fire 0.9, resolve 0.8). */
  memory?: { fireAt?: number; resolveAt?: number };
  /** Pinned tenants as a fraction of capacity (default fire 0.95, resolve 0.85, over 2 ticks). */
  capacity?: { fireAt?: number; resolveAt?: number };
  /** Failed authentications per minute (default fire 100, resolve 20). */
  authFailures?: { fireAt?: number; resolveAt?: number };
  /** LRU evictions per minute (default fire 600, resolve 100, over 2 ticks). */
  evictions?: { fireAt?: number; resolveAt?: number };
}

function perMinute(count: number, sample: MonitorSample): number | undefined {
  return sample.intervalMs <= 0 ? undefined : (count * 60_000) / sample.intervalMs;
}

const round = (value: number) => Math.round(value * 100) / 100;

/** The five rules the monitor runs by default: memory, capacity saturation, sync failures, auth-failure spikes, eviction storms. */
export function builtinRules(options: BuiltinRuleOptions = {}): AlertRule[] {
  return [
    {
      id: 'memory',
      description: 'Heap use near the limit',
      measure: (sample) => sample.memory.heapUsed / sample.memory.heapLimit,
      fireAt: options.memory?.fireAt ?? 0.9,
      resolveAt: options.memory?.resolveAt ?? 0.8,
      message: (value) => `heap at ${round(value * 100)}% of its limit`,
    },
    {
      id: 'capacity',
      description: 'Every tenant slot in use',
      measure: (sample) => sample.stats.pinned / sample.stats.capacity,
      fireAt: options.capacity?.fireAt ?? 0.95,
      resolveAt: options.capacity?.resolveAt ?? 0.85,
      forTicks: 2,
      message: (value) => `${round(value * 100)}% of tenant slots pinned; new tenants get CAPACITY errors`,
    },
    {
      id: 'sync',
      description: 'Config sync with the Cloud Backend failing',
      measure: (sample) => (sample.syncFailing ? 1 : 0),
      fireAt: 1,
      resolveAt: 1,
      message: () => 'config sync is failing; last-known-good configs are served',
    },
    {
      id: 'auth-failures',
      description: 'Spike of failed authentications',
      measure: (sample) => perMinute(sample.delta.authFailures, sample),
      fireAt: options.authFailures?.fireAt ?? 100,
      resolveAt: options.authFailures?.resolveAt ?? 20,
      message: (value) => `${round(value)} failed authentications per minute`,
    },
    {
      id: 'evictions',
      description: 'Eviction storm (capacity too small for the working set)',
      measure: (sample) => perMinute(sample.delta.lruEvictions, sample),
      fireAt: options.evictions?.fireAt ?? 600,
      resolveAt: options.evictions?.resolveAt ?? 100,
      forTicks: 2,
      message: (value) => `${round(value)} LRU evictions per minute`,
    },
  ];
}
