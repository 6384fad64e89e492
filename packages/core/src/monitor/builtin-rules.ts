import type { AlertRule, MonitorSample } from './alert-rule.js';
import { defaultHostMemoryLowBytes } from './host-memory.js';

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
  /**
   * Host memory available below `lowBytes` (default 10 % of the host's memory, at most 1 GiB); resolves
   * once 25 % more than that is available again.
   */
  hostMemory?: { lowBytes?: number };
}

function perMinute(count: number, sample: MonitorSample): number | undefined {
  return sample.intervalMs <= 0 ? undefined : (count * 60_000) / sample.intervalMs;
}

const round = (value: number) => Math.round(value * 100) / 100;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Fires while the host's available memory is below the threshold: the pressure is threshold ÷ available. */
function hostMemoryRule(lowBytes: number | undefined): AlertRule {
  let last = { availableBytes: 0, lowBytes: 0 };
  return {
    id: 'host-memory',
    description: 'Host memory nearly exhausted (new cells would push it into the OOM killer)',
    measure: (sample) => {
      if (sample.host === undefined || sample.host.totalBytes <= 0) return undefined;
      const low = lowBytes ?? defaultHostMemoryLowBytes(sample.host.totalBytes);
      last = { availableBytes: sample.host.availableBytes, lowBytes: low };
      return low / Math.max(1, sample.host.availableBytes);
    },
    fireAt: 1,
    resolveAt: 0.8,
    message: () => `host memory available ${mib(last.availableBytes)} MiB, below the ${mib(last.lowBytes)} MiB threshold`,
  };
}

/**
 * The rules the monitor runs by default: memory, capacity saturation, sync failures, coded sync alerts,
 * Cloud Backend verify failures, auth-failure spikes, eviction storms, host memory running out.
 */
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
      id: 'sync-alerts',
      description: 'Config sync raised a coded alert (an oversized page, an empty snapshot)',
      measure: (sample) => sample.syncAlerts.length,
      fireAt: 1,
      resolveAt: 1,
      message: (value) => `${value} config sync alert${value === 1 ? '' : 's'} raised; see sync.alerts in the stats for the codes`,
    },
    {
      id: 'backend',
      description: 'Token verification against the Cloud Backend failing',
      measure: (sample) => (sample.backendFailing ? 1 : 0),
      fireAt: 1,
      resolveAt: 1,
      message: () => 'the Cloud Backend does not answer token verifications; only tokens in the outage grace are admitted',
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
    hostMemoryRule(options.hostMemory?.lowBytes),
  ];
}
