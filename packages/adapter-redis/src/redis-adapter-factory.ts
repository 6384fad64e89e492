import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defineAdapter, MultiTenantError } from '@openclaw-mt/core';
import { createRedisAdapter } from './redis-adapter.js';

/** Options of the `redis` adapter as configuration gives them (the operator config's `redis` block). */
export interface RedisAdapterFactoryOptions extends Record<string, unknown> {
  /** Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Cluster seed nodes; wins over `url`. */
  cluster?: string[];
  /** Key prefix shared by the fleet (default `ocmt`). */
  prefix?: string;
  /**
   * How long opening waits for Redis, in ms (default 10,000). A gateway then fails to start; a CLI
   * command goes on (its reads fail with `BACKEND_UNAVAILABLE`, its revocations and suspensions are
   * queued for the gateway on this host to deliver).
   */
  readyTimeoutMs?: number;
}

/** Waits for `ready`, failing with `BACKEND_UNAVAILABLE` after `timeoutMs`. */
async function readyWithin(ready: Promise<void>, timeoutMs: number, where: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new MultiTenantError('BACKEND_UNAVAILABLE', `Redis at ${where} did not answer within ${timeoutMs / 1000} s.`, {
                retryAfterMs: 5_000,
              }),
            ),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The built-in `redis` adapter as configuration names it. Open workspaces are materialised under
 * `<dataDir>/node-workspaces`; a CLI command (`role: 'tool'`) gets a scratch directory of its own, removed
 * on close, rather than replacing (then deleting) the working copy of a gateway on the same host.
 */
export const redisAdapterFactory = defineAdapter<RedisAdapterFactoryOptions>({
  name: 'redis',
  async open(options, context) {
    const prefix = options.prefix ?? 'ocmt';
    const where = options.cluster?.join(', ') ?? options.url ?? 'redis://127.0.0.1:6379';
    const localDir =
      context.role === 'tool'
        ? join(context.dataDir, 'cli-workspaces', `${process.pid}-${randomBytes(4).toString('hex')}`)
        : join(context.dataDir, 'node-workspaces');
    const adapter = createRedisAdapter({
      ...(options.cluster ? { cluster: options.cluster } : { url: options.url ?? 'redis://127.0.0.1:6379' }),
      prefix,
      nodeId: context.nodeId,
      localDir,
      template: context.template,
      limits: context.limits,
      // Shared by every process of this host on this data directory and prefix.
      outboxDir: join(context.dataDir, 'redis-outbox', prefix),
    });
    const close = async () => {
      try {
        await adapter.close();
      } finally {
        if (context.role === 'tool') await rm(localDir, { recursive: true, force: true }).catch(() => undefined);
      }
    };
    try {
      await readyWithin(adapter.ready(), options.readyTimeoutMs ?? 10_000, where);
    } catch (error) {
      // A command run during an outage still gets to queue a revocation or suspension.
      if (context.role !== 'tool') {
        await close();
        throw error;
      }
    }
    return {
      tokens: adapter.tokens,
      configs: adapter.configs,
      workspaces: adapter.workspaces,
      coordinator: adapter.coordinator,
      audit: adapter.audit,
      description: `redis with prefix "${prefix}"`,
      close,
    };
  },
});
