import { redact } from '@openclaw-mt/core/tokens';
import type { TenantManagerStats } from '@openclaw-mt/core';
import { totalUsage } from '@openclaw-mt/core/monitor';
import { defineCommand } from 'citty';
import { adminUrlArg } from '../args/admin-args.js';
import { configArg, jsonArg } from '../args/common-args.js';
import { adminClientFor } from '../context/admin-client.js';
import { configSecrets } from '../context/config-secrets.js';
import { reportsFromFleet, type NodeReport } from '../context/fleet-nodes.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { withStores } from '../context/with-stores.js';
import { bytesText, costText } from '../output/cost-text.js';
import { runAction } from '../output/output.js';

/** What `GET /v1/stats` answers: the manager's numbers plus the gateway's. */
type GatewayStats = TenantManagerStats & {
  connections: number;
  /** The host's memory. */
  host?: { availableBytes: number; totalBytes: number };
  /** What the tenants' own processes (OpenClaw cells) cost, summed and per tenant. */
  cells?: {
    tenants: number;
    rssBytes: number;
    anonBytes?: number;
    cpuSeconds: number;
    diskBytes: number;
    perTenant?: Array<{ tenantId: string; rssBytes: number; anonBytes?: number; cpuSeconds: number; diskBytes: number }>;
  };
  /** Processes kept ready for tenants (pre-booted OpenClaw cells, primed processes). */
  standby?: { cells: number; rssBytes: number; anonBytes?: number };
  sync?: {
    healthy: boolean;
    lastSuccessAt?: number;
    failingSince?: number;
    lastError?: { code: string; message: string };
    alerts?: Array<{ code: string; message: string }>;
  };
  alerts?: Array<{ rule: string; message?: string }>;
  /** The model gateway's counters, when one runs. */
  models?: {
    requests: number;
    inputTokens: number;
    outputTokens: number;
    tenants: number;
    inFlight: number;
    errors: Record<string, number>;
  };
};

const at = (epoch: number | undefined) => (epoch === undefined ? 'never' : new Date(epoch).toISOString());

function describe(stats: GatewayStats): string {
  const evictions = Object.entries(stats.evictions)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const lines = [
    `tenants:     ${stats.resident} resident of ${stats.capacity} (${stats.pinned} pinned, ${stats.activating} activating), ${stats.queued} queued`,
    `connections: ${stats.connections}`,
    ...(stats.host === undefined
      ? []
      : [`host:        ${bytesText(stats.host.availableBytes)} memory available of ${bytesText(stats.host.totalBytes)}`]),
    ...(stats.cells === undefined ? [] : [`cells:       ${stats.cells.tenants} running, ${costText(stats.cells)}`]),
    ...(stats.cells?.perTenant ?? []).map((cell) => `  ${cell.tenantId}: ${costText(cell)}`),
    ...(stats.standby === undefined || stats.standby.cells === 0
      ? []
      : [
          `standby:     ${stats.standby.cells} processes kept ready for users, memory ${bytesText(stats.standby.rssBytes)}` +
            (stats.standby.anonBytes === undefined ? '' : ` (${bytesText(stats.standby.anonBytes)} their own)`),
        ]),
    `activations: ${stats.activations} ok, ${stats.activationFailures} failed`,
    `evictions:   ${evictions}`,
    `auth:        ${stats.auth.hits} cache hits, ${stats.auth.misses} misses, ${stats.auth.failures} failures, ${stats.auth.unavailable} unavailable`,
  ];
  if (stats.sync) {
    lines.push(
      `sync:        ${stats.sync.healthy ? 'healthy' : 'FAILING'}, last success ${at(stats.sync.lastSuccessAt)}${stats.sync.lastError && !stats.sync.healthy ? ` (${stats.sync.lastError.code}: ${stats.sync.lastError.message})` : ''}`,
    );
  }
  if (stats.sync?.alerts && stats.sync.alerts.length > 0) {
    lines.push(`sync alerts: ${stats.sync.alerts.map((alert) => `${alert.code} (${alert.message})`).join('; ')}`);
  }
  if (stats.models) {
    const errors = Object.values(stats.models.errors).reduce((sum, count) => sum + count, 0);
    lines.push(
      `models:      ${stats.models.requests} requests from ${stats.models.tenants} tenants (${stats.models.inFlight} in flight), ${stats.models.inputTokens} input / ${stats.models.outputTokens} output tokens, ${errors} errors`,
    );
  }
  if (stats.alerts) lines.push(`alerts:      ${stats.alerts.length === 0 ? 'none' : stats.alerts.map((alert) => alert.rule).join(', ')}`);
  return lines.join('\n');
}

/** Adds numbers field by field, nested records included (the fleet's totals of its nodes' figures). */
function addUp(total: Record<string, unknown>, part: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(part)) {
    if (typeof value === 'number') total[key] = ((total[key] as number | undefined) ?? 0) + value;
    else if (typeof value === 'object' && value !== null)
      total[key] = addUp((total[key] as Record<string, unknown>) ?? {}, value as Record<string, unknown>);
  }
  return total;
}

/** One node's numbers as `stats` shows them: its manager's, the connections its tenants hold, and what its cells cost. */
function nodeStats(node: Extract<NodeReport, { reachable: true }>): GatewayStats {
  const perTenant = node.tenants.flatMap(({ tenantId, usage }) => (usage === undefined ? [] : [{ tenantId, ...usage }]));
  // Summed as the gateway sums its own (`/v1/stats`).
  const cells = perTenant.length === 0 ? undefined : { ...totalUsage(perTenant), perTenant };
  return {
    ...node.stats,
    connections: node.tenants.reduce((sum, tenant) => sum + tenant.connections, 0),
    ...(cells === undefined ? {} : { cells }),
  };
}

/** A node's numbers without the per-cell list, which the fleet total does not add up. */
function summable(stats: GatewayStats): Record<string, unknown> {
  if (stats.cells === undefined) return stats as unknown as Record<string, unknown>;
  const { perTenant: _list, ...cells } = stats.cells;
  return { ...stats, cells } as unknown as Record<string, unknown>;
}

function describeFleet(nodes: NodeReport[], total: GatewayStats | undefined): string {
  if (nodes.length === 0) return 'No node of the fleet is heartbeating.';
  const sections = nodes.map((node) =>
    node.reachable
      ? `node ${node.nodeId} (${node.address})\n${indent(describe(nodeStats(node)))}`
      : `node ${node.nodeId} (${node.address}): not reachable (${node.error.message})`,
  );
  if (total !== undefined)
    sections.push(`fleet total (${nodes.filter((node) => node.reachable).length} nodes)\n${indent(describe(total))}`);
  return sections.join('\n\n');
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

/** `openclaw-mt stats` */
export const statsCommand = defineCommand({
  meta: { name: 'stats', description: "The running gateway's numbers (the same as its /metrics)" },
  args: { ...adminUrlArg, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      // In a fleet every live node is asked over its internal port; otherwise the one gateway's admin API.
      const nodes = await withStores(args.config, (stores, loaded) => reportsFromFleet(loaded, stores.coordinator));
      if (nodes !== undefined) {
        const answered = nodes.flatMap((node) => (node.reachable ? [nodeStats(node)] : []));
        const total = answered.length === 0 ? undefined : (answered.reduce((sum, part) => addUp(sum, summable(part)), {}) as GatewayStats);
        const shown = nodes.map((node) =>
          node.reachable ? { nodeId: node.nodeId, address: node.address, reachable: true, ...nodeStats(node) } : node,
        );
        output.result({ nodes: shown, total: total ?? null }, () => describeFleet(nodes, total));
        return;
      }
      const { config } = await loadOperatorConfig(args.config);
      const raw = await (await adminClientFor(config, args['admin-url'])).stats();
      // A backend may echo the service token in an error the gateway keeps as sync.lastError: never print it.
      const stats = redact(raw, configSecrets(config)) as GatewayStats;
      output.result(stats, () => describe(stats));
    }),
});
