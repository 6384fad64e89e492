import { describe, test } from 'vitest';
import { runAdapterConformance } from '@openclaw-mt/core/testing';
import { createRedisAdapter, type RedisConnectionOptions } from '@openclaw-mt/adapter-redis';
import type { Leftovers } from './fixture.js';

/**
 * Registers the conformance kit against Redis. Each kit namespace maps to a key prefix (two adapters
 * on one namespace share data); each adapter instance is a node with its own local directory.
 */
export function redisConformance(name: string, source: () => RedisConnectionOptions, leftovers: () => Leftovers, label: string): void {
  const run = `${label}-${Math.random().toString(36).slice(2, 8)}`;
  runAdapterConformance({
    name,
    runner: { describe, test },
    async create({ namespace, template, limits, nodeId }) {
      const prefix = leftovers().prefix(`ocmt-test-${run}:${namespace}`);
      const localDir = await leftovers().tempDir('node');
      const adapter = createRedisAdapter({ ...source(), prefix, nodeId, localDir, template, limits, leaseTtlMs: 5_000 });
      return {
        tokens: adapter.tokens,
        configs: adapter.configs,
        workspaces: adapter.workspaces,
        coordinator: adapter.coordinator,
        audit: adapter.audit,
        async cleanup() {
          await adapter.close();
          await leftovers().removeDir(localDir);
          await leftovers().removePrefix(prefix);
        },
      };
    },
  });
}
