import type { ConfigSyncService, PushReceiver } from '@openclaw-mt/core/cloud';
import { hostMemory, type Monitor, type TenantUsage } from '@openclaw-mt/core/monitor';
import type { TenantManager, TenantManagerStats } from '@openclaw-mt/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayObserver } from '../connection/gateway-observer.js';
import type { StandbyUsage } from '../runtime/tenant-runtime.js';

/** What the metrics read from. */
export interface GatewayMetricsSources {
  manager: TenantManager;
  /** Open client connections. */
  connections: () => number;
  sync?: ConfigSyncService;
  monitor?: Monitor;
  /** In a fleet, this node's id: every series carries it as the `node` label, so node figures never merge. */
  nodeId?: string;
  /** What each active tenant's own processes cost (the runtime's `usage`); per-tenant gauges when given. */
  usage?: () => Promise<TenantUsage[]>;
  /** Processes the runtime keeps ready for new tenants (the runtime's `standby`); two gauges when given. */
  standby?: () => Promise<StandbyUsage>;
  /** The Cloud Backend's push receiver, when pushes are on: counters of what it accepted and refused. */
  push?: PushReceiver;
}

/** Prometheus metrics of one gateway: a registry to serve and an observer to pass to `createGateway`. */
export interface GatewayMetrics {
  registry: Registry;
  observer: GatewayObserver;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  /** Stops listening to the manager. */
  close(): void;
}

const MAX_METHOD_LABELS = 200;
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Prometheus metrics (prom-client, in a private registry): tenant gauges and counters read from
 * `manager.stats()` at scrape time — so `/metrics` and `stats` always agree — plus latency histograms
 * for activations, handshakes and requests, sync lag and active alerts.
 */
export function createGatewayMetrics(sources: GatewayMetricsSources): GatewayMetrics {
  const registry = new Registry();
  if (sources.nodeId !== undefined) registry.setDefaultLabels({ node: sources.nodeId });
  collectDefaultMetrics({ register: registry, prefix: 'openclaw_mt_' });
  const { manager } = sources;
  let stats: TenantManagerStats = manager.stats();
  // Counters advance by the growth of the manager's own counters since the previous scrape.
  const seen = {
    activations: stats.activations,
    failures: stats.activationFailures,
    evictions: { ...stats.evictions },
    auth: { ...stats.auth },
  };
  const refresh = () => {
    stats = manager.stats();
  };

  new Gauge({
    name: 'openclaw_mt_tenants',
    help: 'Tenants in memory, by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      refresh();
      this.set({ state: 'resident' }, stats.resident);
      this.set({ state: 'pinned' }, stats.pinned);
      this.set({ state: 'activating' }, stats.activating);
    },
  });
  new Gauge({
    name: 'openclaw_mt_tenant_capacity',
    help: 'Most tenants in memory at once',
    registers: [registry],
    collect() {
      this.set(stats.capacity);
    },
  });
  new Gauge({
    name: 'openclaw_mt_admission_queue',
    help: 'Acquires waiting for a free slot',
    registers: [registry],
    collect() {
      this.set(stats.queued);
    },
  });
  new Gauge({
    name: 'openclaw_mt_connections',
    help: 'Open, authenticated client connections',
    registers: [registry],
    collect() {
      this.set(sources.connections());
    },
  });
  new Counter({
    name: 'openclaw_mt_activations_total',
    help: 'Tenant activations',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.inc({ result: 'ok' }, Math.max(0, stats.activations - seen.activations));
      this.inc({ result: 'failed' }, Math.max(0, stats.activationFailures - seen.failures));
      seen.activations = stats.activations;
      seen.failures = stats.activationFailures;
    },
  });
  new Counter({
    name: 'openclaw_mt_evictions_total',
    help: 'Tenant evictions, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, count] of Object.entries(stats.evictions)) {
        this.inc({ reason }, Math.max(0, count - (seen.evictions[reason as keyof typeof seen.evictions] ?? 0)));
      }
      seen.evictions = { ...stats.evictions };
    },
  });
  new Counter({
    name: 'openclaw_mt_auth_total',
    help: 'Authentications, by result (cache_hit, cache_miss, failure, unavailable)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const pairs: Array<[string, 'hits' | 'misses' | 'failures' | 'unavailable']> = [
        ['cache_hit', 'hits'],
        ['cache_miss', 'misses'],
        ['failure', 'failures'],
        ['unavailable', 'unavailable'],
      ];
      for (const [result, key] of pairs) this.inc({ result }, Math.max(0, stats.auth[key] - seen.auth[key]));
      seen.auth = { ...stats.auth };
    },
  });
  const authFailures = new Counter({
    name: 'openclaw_mt_auth_failures_total',
    help: 'Failed authentications, by code',
    labelNames: ['code'],
    registers: [registry],
  });
  const activation = new Histogram({
    name: 'openclaw_mt_activation_duration_seconds',
    help: 'Time to activate a tenant',
    buckets: SECONDS,
    registers: [registry],
  });
  const handshake = new Histogram({
    name: 'openclaw_mt_handshake_duration_seconds',
    help: 'Socket open to hello-ok or error',
    labelNames: ['outcome'],
    buckets: SECONDS,
    registers: [registry],
  });
  const request = new Histogram({
    name: 'openclaw_mt_request_duration_seconds',
    help: 'Request latency by method',
    labelNames: ['method', 'outcome'],
    buckets: SECONDS,
    registers: [registry],
  });
  if (sources.sync) {
    const sync = sources.sync;
    new Gauge({
      name: 'openclaw_mt_sync_lag_seconds',
      help: 'Seconds since the last successful config sync',
      registers: [registry],
      collect() {
        const last = sync.status().lastSuccessAt;
        this.set(last === undefined ? Number.NaN : (Date.now() - last) / 1000);
      },
    });
    new Gauge({
      name: 'openclaw_mt_sync_healthy',
      help: '1 when config sync works',
      registers: [registry],
      collect() {
        this.set(sync.status().healthy ? 1 : 0);
      },
    });
  }
  if (sources.monitor) {
    const monitor = sources.monitor;
    new Gauge({
      name: 'openclaw_mt_alerts_active',
      help: 'Alert rules firing',
      labelNames: ['rule'],
      registers: [registry],
      collect() {
        this.reset();
        for (const alert of monitor.activeAlerts()) this.set({ rule: alert.rule }, 1);
      },
    });
  }

  new Gauge({
    name: 'openclaw_mt_host_memory_available_bytes',
    help: 'Memory the host can still give new processes (Linux MemAvailable)',
    registers: [registry],
    async collect() {
      this.set((await hostMemory()).availableBytes);
    },
  });
  if (sources.usage) {
    // One measurement per scrape, shared by the three gauges (prom-client collects them together; each
    // measurement walks /proc and the tenants' directories).
    const measure = sources.usage;
    let pending: Promise<TenantUsage[]> | undefined;
    const usage = () => {
      pending ??= measure()
        .catch(() => [])
        .finally(() => {
          pending = undefined;
        });
      return pending;
    };
    // Only active tenants have series: each scrape starts from none, so evicted tenants' series go.
    const perTenant = (name: string, help: string, pick: (tenant: TenantUsage) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['tenant'],
        registers: [registry],
        async collect() {
          const measured = await usage();
          this.reset();
          for (const tenant of measured) {
            const value = pick(tenant);
            if (value !== undefined) this.set({ tenant: tenant.tenantId }, value);
          }
        },
      });
    perTenant('openclaw_mt_tenant_memory_bytes', "Resident memory of an active tenant's process tree", (tenant) => tenant.rssBytes);
    perTenant(
      'openclaw_mt_tenant_memory_anon_bytes',
      "Anonymous resident memory of an active tenant's process tree: without the file pages its processes share (such as the runtime's binary), what it alone takes from the host",
      (tenant) => tenant.anonBytes,
    );
    perTenant('openclaw_mt_tenant_cpu_seconds', "CPU seconds an active tenant's live processes have used", (tenant) => tenant.cpuSeconds);
    perTenant('openclaw_mt_tenant_disk_bytes', "Disk an active tenant's directories occupy", (tenant) => tenant.diskBytes);
  }

  if (sources.standby) {
    const measure = sources.standby;
    let pending: Promise<StandbyUsage> | undefined;
    const standby = () => {
      pending ??= measure()
        .catch(() => ({ cells: 0, rssBytes: 0 }))
        .finally(() => {
          pending = undefined;
        });
      return pending;
    };
    new Gauge({
      name: 'openclaw_mt_standby_cells',
      help: 'Processes kept ready for tenants (pre-booted OpenClaw cells, primed processes)',
      registers: [registry],
      async collect() {
        this.set((await standby()).cells);
      },
    });
    new Gauge({
      name: 'openclaw_mt_standby_memory_bytes',
      help: 'Resident memory of the processes kept ready for tenants',
      registers: [registry],
      async collect() {
        this.set((await standby()).rssBytes);
      },
    });
  }

  // Token verification against the Cloud Backend: one series whatever the adapter, 1 until an outage is seen.
  let backendHealthy = true;
  new Gauge({
    name: 'openclaw_mt_backend_healthy',
    help: '1 while token verification against the Cloud Backend works (always 1 without one)',
    registers: [registry],
    collect() {
      this.set(backendHealthy ? 1 : 0);
    },
  });
  const backendOutages = new Counter({
    name: 'openclaw_mt_backend_outages_total',
    help: 'Times token verification against the Cloud Backend started failing, by error code',
    labelNames: ['code'],
    registers: [registry],
  });
  if (sources.push) {
    const push = sources.push;
    const counted = { accepted: 0, duplicates: 0, refused: 0 };
    new Counter({
      name: 'openclaw_mt_cloud_pushes_total',
      help: 'Signed pushes from the Cloud Backend, by outcome (accepted, duplicate, refused)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const now = push.stats();
        this.inc({ outcome: 'accepted' }, now.accepted - counted.accepted);
        this.inc({ outcome: 'duplicate' }, now.duplicates - counted.duplicates);
        this.inc({ outcome: 'refused' }, now.refused - counted.refused);
        Object.assign(counted, now);
      },
    });
  }

  const started = new Map<string, number>();
  const unhook = manager.hooks.addHooks({
    'backend:failed': ({ error }) => {
      backendHealthy = false;
      backendOutages.inc({ code: error.code });
    },
    'backend:recovered': () => {
      backendHealthy = true;
    },
    'tenant:activate': ({ tenantId }) => void started.set(tenantId, performance.now()),
    'tenant:activated': ({ tenantId }) => {
      const at = started.get(tenantId);
      started.delete(tenantId);
      if (at !== undefined) activation.observe((performance.now() - at) / 1000);
    },
    'auth:failed': ({ code }) => void authFailures.inc({ code }),
  });

  const methods = new Set<string>();
  const methodLabel = (method: string): string => {
    if (methods.has(method)) return method;
    if (methods.size >= MAX_METHOD_LABELS || !/^[A-Za-z][A-Za-z0-9._-]{0,63}$/.test(method)) return 'other';
    methods.add(method);
    return method;
  };

  return {
    registry,
    observer: {
      handshake: (ms, outcome) => handshake.observe({ outcome }, ms / 1000),
      request: (method, ms, outcome) => request.observe({ method: methodLabel(method), outcome }, ms / 1000),
    },
    render: () => registry.metrics(),
    close: () => unhook(),
  };
}
