import { getHeapStatistics } from 'node:v8';
import type { ConsolaInstance } from 'consola';
import type { TenantManager, TenantManagerStats } from '../lifecycle/tenant-manager.js';
import { createLogger } from '../logging/logger.js';
import type { ActiveAlert, AlertEvent, AlertRule, MonitorSample } from './alert-rule.js';
import { builtinRules } from './builtin-rules.js';
import { hostMemory, type HostMemory } from './host-memory.js';
import { totalUsage, type TenantUsage } from './tenant-usage.js';

/** Options of {@link Monitor}. */
export interface MonitorOptions {
  manager: TenantManager;
  /** Sampling period (default 30 s). */
  intervalMs?: number;
  /** Rules to evaluate (default: {@link builtinRules}). */
  rules?: AlertRule[];
  /** How long one alert handler may take before it is abandoned (default 5 s). */
  handlerTimeoutMs?: number;
  /** Log a stats line every tick (default true). */
  logStats?: boolean;
  logger?: ConsolaInstance;
  now?: () => number;
  /** Process memory reading (tests). */
  memory?: () => MonitorSample['memory'];
  /** Host memory reading (tests); default `/proc/meminfo`. */
  hostMemory?: () => Promise<HostMemory>;
  /** What each active tenant's processes cost (the runtime's `usage`), logged with every stats line. */
  usage?: () => Promise<TenantUsage[]>;
}

interface RuleState {
  over: number;
  active: ActiveAlert | undefined;
}

function readMemory(): MonitorSample['memory'] {
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed, heapLimit: getHeapStatistics().heap_size_limit };
}

/**
 * Periodic stats and alerting for a manager. Each tick samples the manager and the process, evaluates
 * every rule with hysteresis (one alert per episode, one resolution), and hands transitions to the
 * handlers — each awaited with a timeout, its failures logged and contained, so a throwing or hanging
 * handler never stops the others or the monitor.
 */
export class Monitor {
  private readonly rules: AlertRule[];
  private readonly states = new Map<string, RuleState>();
  private readonly handlers = new Set<(event: AlertEvent) => unknown>();
  private readonly log: ConsolaInstance;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private previous: { at: number; stats: TenantManagerStats } | undefined;
  private latest: MonitorSample | undefined;
  private syncFailing = false;
  private backendFailing = false;
  private readonly syncAlerts = new Set<string>();
  private ticking: Promise<MonitorSample> | undefined;
  private readonly unhook: () => void;

  constructor(private readonly options: MonitorOptions) {
    this.rules = options.rules ?? builtinRules();
    for (const rule of this.rules) {
      if (rule.resolveAt > rule.fireAt) throw new RangeError(`alert rule ${rule.id}: resolveAt must not exceed fireAt`);
      this.states.set(rule.id, { over: 0, active: undefined });
    }
    this.log = options.logger ?? createLogger({ tag: 'openclaw-mt:monitor' });
    this.now = options.now ?? Date.now;
    this.unhook = options.manager.hooks.addHooks({
      'sync:failed': () => {
        this.syncFailing = true;
      },
      'sync:recovered': () => {
        this.syncFailing = false;
      },
      'sync:alert': ({ code }) => {
        this.syncAlerts.add(code);
      },
      'sync:alert-resolved': ({ code }) => {
        this.syncAlerts.delete(code);
      },
      'backend:failed': () => {
        this.backendFailing = true;
      },
      'backend:recovered': () => {
        this.backendFailing = false;
      },
    });
  }

  /** Starts sampling every `intervalMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(
      () => void this.tick().catch((error) => this.log.warn('monitor tick failed:', error)),
      this.options.intervalMs ?? 30_000,
    );
    this.timer.unref();
  }

  /** Stops sampling and detaches from the manager. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unhook();
  }

  /** Subscribes to alert transitions; returns an unsubscribe function. */
  onAlert(handler: (event: AlertEvent) => unknown): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Rules firing now. */
  activeAlerts(): ActiveAlert[] {
    return [...this.states.values()].flatMap((state) => (state.active ? [{ ...state.active }] : []));
  }

  /** The most recent sample, if any. */
  lastSample(): MonitorSample | undefined {
    return this.latest;
  }

  /** Takes one sample and evaluates the rules now (ticks never overlap). */
  tick(): Promise<MonitorSample> {
    this.ticking ??= this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async runTick(): Promise<MonitorSample> {
    const at = this.now();
    const stats = this.options.manager.stats();
    const before = this.previous?.stats;
    const [host, usage] = await Promise.all([
      (this.options.hostMemory ?? hostMemory)().catch(() => undefined),
      this.options.usage?.().catch((error: unknown) => {
        this.log.warn('measuring tenant usage failed:', error);
        return undefined;
      }),
    ]);
    const cells = usage === undefined ? undefined : totalUsage(usage);
    const sample: MonitorSample = {
      at,
      intervalMs: this.previous === undefined ? 0 : at - this.previous.at,
      stats,
      memory: (this.options.memory ?? readMemory)(),
      ...(host === undefined ? {} : { host }),
      ...(cells === undefined ? {} : { cells }),
      delta: {
        authFailures: stats.auth.failures - (before?.auth.failures ?? stats.auth.failures),
        lruEvictions: stats.evictions.lru - (before?.evictions.lru ?? stats.evictions.lru),
        activations: stats.activations - (before?.activations ?? stats.activations),
        activationFailures: stats.activationFailures - (before?.activationFailures ?? stats.activationFailures),
      },
      syncFailing: this.syncFailing,
      syncAlerts: [...this.syncAlerts],
      backendFailing: this.backendFailing,
    };
    this.previous = { at, stats };
    this.latest = sample;
    if (this.options.logStats !== false) {
      this.log.info(
        `stats resident=${stats.resident}/${stats.capacity} pinned=${stats.pinned} activating=${stats.activating} queued=${stats.queued} ` +
          `activations+${sample.delta.activations} authFailures+${sample.delta.authFailures} lruEvictions+${sample.delta.lruEvictions} rssMB=${Math.round(sample.memory.rss / 2 ** 20)}` +
          (host === undefined ? '' : ` hostAvailableMB=${Math.round(host.availableBytes / 2 ** 20)}`) +
          (cells === undefined
            ? ''
            : ` cells=${cells.tenants} cellRssMB=${Math.round(cells.rssBytes / 2 ** 20)}${cells.anonBytes === undefined ? '' : ` cellAnonMB=${Math.round(cells.anonBytes / 2 ** 20)}`} cellCpuS=${cells.cpuSeconds} cellDiskMB=${Math.round(cells.diskBytes / 2 ** 20)}`),
      );
    }
    const events: AlertEvent[] = [];
    for (const rule of this.rules) {
      const event = this.evaluate(rule, sample);
      if (event !== undefined) events.push(event);
    }
    for (const event of events) {
      const line = `${event.type === 'fired' ? 'ALERT' : 'resolved'} ${event.rule}: ${event.message}`;
      if (event.type === 'fired') this.log.warn(line);
      else this.log.info(line);
      await this.deliver(event);
    }
    return sample;
  }

  private evaluate(rule: AlertRule, sample: MonitorSample): AlertEvent | undefined {
    const value = rule.measure(sample);
    const state = this.states.get(rule.id)!;
    if (value === undefined || !Number.isFinite(value)) return undefined;
    if (state.active === undefined) {
      state.over = value >= rule.fireAt ? state.over + 1 : 0;
      if (state.over < (rule.forTicks ?? 1)) return undefined;
      const message = rule.message(value);
      state.active = { rule: rule.id, since: sample.at, value, message };
      return { type: 'fired', rule: rule.id, value, threshold: rule.fireAt, message, at: sample.at };
    }
    state.active.value = value;
    if (value >= rule.resolveAt) return undefined;
    state.active = undefined;
    state.over = 0;
    return { type: 'resolved', rule: rule.id, value, threshold: rule.resolveAt, message: rule.message(value), at: sample.at };
  }

  private async deliver(event: AlertEvent): Promise<void> {
    const timeoutMs = this.options.handlerTimeoutMs ?? 5_000;
    await Promise.all(
      [...this.handlers].map(async (handler) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(() => handler(event)),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`alert handler timed out after ${timeoutMs} ms`)), timeoutMs);
              timer.unref();
            }),
          ]);
        } catch (error) {
          this.log.warn(`alert handler failed for ${event.rule}:`, error);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}
