import type { TenantManagerStats } from '../lifecycle/tenant-manager.js';
import type { HostMemory } from './host-memory.js';
import type { UsageTotals } from './tenant-usage.js';

/** What the monitor measures on every tick. */
export interface MonitorSample {
  /** Epoch milliseconds. */
  at: number;
  /** Milliseconds since the previous sample (0 on the first). */
  intervalMs: number;
  stats: TenantManagerStats;
  memory: { rss: number; heapUsed: number; heapLimit: number };
  /** The host's memory (absent where it could not be read). */
  host?: HostMemory;
  /** What the tenants' own processes (OpenClaw cells) cost, summed; absent for runtimes without them. */
  cells?: UsageTotals;
  /** Counter increases since the previous sample. */
  delta: { authFailures: number; lruEvictions: number; activations: number; activationFailures: number };
  /** Whether config sync is in an outage (set by `sync:failed`, cleared by `sync:recovered`). */
  syncFailing: boolean;
  /** Codes of the sync's alerts that are raised and not resolved (`SYNC_PAGE_TOO_LARGE`, …). */
  syncAlerts: string[];
  /** Whether token verification against the Cloud Backend is failing (set by `backend:failed`, cleared by `backend:recovered`). */
  backendFailing: boolean;
}

/**
 * An alert rule with hysteresis: it fires once the measured value stays at or above `fireAt` for
 * `forTicks` consecutive samples, and resolves only once the value drops below `resolveAt` — so a
 * value hovering around one threshold gives one alert and one resolution, never one per tick.
 */
export interface AlertRule {
  /** Stable id (`memory`, `capacity`, …). */
  id: string;
  description: string;
  /** The value compared with the thresholds; `undefined` skips this sample. */
  measure(sample: MonitorSample): number | undefined;
  fireAt: number;
  /** Must be at most `fireAt`. */
  resolveAt: number;
  /** Consecutive samples at or over `fireAt` before firing (default 1). */
  forTicks?: number;
  /** A person-readable line for a value. */
  message(value: number): string;
}

/** An alert transition, given to every handler. */
export interface AlertEvent {
  type: 'fired' | 'resolved';
  rule: string;
  value: number;
  threshold: number;
  message: string;
  at: number;
}

/** A rule that is currently firing. */
export interface ActiveAlert {
  rule: string;
  since: number;
  value: number;
  message: string;
}
