import type { TenantManagerStats } from '@openclaw-mt/core';
import { defineCommand } from 'citty';
import { adminUrlArg } from '../args/admin-args.js';
import { configArg, jsonArg } from '../args/common-args.js';
import { adminClientFor } from '../context/admin-client.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { runAction } from '../output/output.js';

/** What `GET /v1/stats` answers: the manager's numbers plus the gateway's. */
type GatewayStats = TenantManagerStats & {
  connections: number;
  sync?: { healthy: boolean; lastSuccessAt?: number; failingSince?: number; lastError?: { code: string; message: string } };
  alerts?: Array<{ rule: string; message?: string }>;
};

const at = (epoch: number | undefined) => (epoch === undefined ? 'never' : new Date(epoch).toISOString());

function describe(stats: GatewayStats): string {
  const evictions = Object.entries(stats.evictions).map(([reason, count]) => `${reason} ${count}`).join(', ');
  const lines = [
    `tenants:     ${stats.resident} resident of ${stats.capacity} (${stats.pinned} pinned, ${stats.activating} activating), ${stats.queued} queued`,
    `connections: ${stats.connections}`,
    `activations: ${stats.activations} ok, ${stats.activationFailures} failed`,
    `evictions:   ${evictions}`,
    `auth:        ${stats.auth.hits} cache hits, ${stats.auth.misses} misses, ${stats.auth.failures} failures, ${stats.auth.unavailable} unavailable`,
  ];
  if (stats.sync) {
    lines.push(
      `sync:        ${stats.sync.healthy ? 'healthy' : 'FAILING'}, last success ${at(stats.sync.lastSuccessAt)}${stats.sync.lastError && !stats.sync.healthy ? ` (${stats.sync.lastError.code}: ${stats.sync.lastError.message})` : ''}`,
    );
  }
  if (stats.alerts) lines.push(`alerts:      ${stats.alerts.length === 0 ? 'none' : stats.alerts.map((alert) => alert.rule).join(', ')}`);
  return lines.join('\n');
}

/** `openclaw-mt stats` */
export const statsCommand = defineCommand({
  meta: { name: 'stats', description: "The running gateway's numbers (the same as its /metrics)" },
  args: { ...adminUrlArg, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const { config } = await loadOperatorConfig(args.config);
      const stats = (await (await adminClientFor(config, args['admin-url'])).stats()) as unknown as GatewayStats;
      output.result(stats, () => describe(stats));
    }),
});
