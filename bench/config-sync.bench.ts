import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCloudBackend } from '@openclaw-mt/core/cloud';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { type Benchmark, round } from './harness.js';

const USERS = 100_000;
const SERVICE_TOKEN = 'bench-service-token-0123456789';

interface User {
  userId: string;
  status: 'active';
  config: Record<string, unknown>;
  version: number;
  updatedAt: number;
  seq: number;
}

/**
 * A feed server keeping users in change order: a page is a slice after the cursor, so serving a page
 * costs the same whatever the total — the floor compares the client's work, not the server's.
 */
function feedServer() {
  const byId = new Map<string, User>();
  let order: User[] = [];
  let seq = 0;
  const change = (ids: string[]) => {
    for (const userId of ids) {
      const previous = byId.get(userId);
      const user: User = {
        userId,
        status: 'active',
        config: { model: `m-${seq}` },
        version: (previous?.version ?? 0) + 1,
        updatedAt: Date.now(),
        seq: ++seq,
      };
      byId.set(userId, user);
    }
    order = [...byId.values()].sort((a, b) => a.seq - b.seq);
  };
  const firstAfter = (cursor: number) => {
    let low = 0;
    let high = order.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (order[mid]!.seq <= cursor) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://feed.invalid');
    const cursor = Number(Buffer.from(url.searchParams.get('cursor') ?? '', 'base64url').toString() || '0');
    const limit = Number(url.searchParams.get('limit') ?? '500');
    const start = firstAfter(cursor);
    const page = order.slice(start, start + limit);
    const last = page.at(-1)?.seq ?? cursor;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        users: page.map(({ seq: _seq, ...user }) => user),
        nextCursor: Buffer.from(String(last)).toString('base64url'),
        hasMore: start + limit < order.length,
      }),
    );
  });
  return { server, change };
}

/** 5 — a config sync when 1% of 100,000 known tenants changed vs when all of them changed. */
export const configSync: Benchmark = {
  id: 5,
  title: 'Config sync of 100,000 known tenants when 1% changed',
  floor: 'the same sync when 100% changed',
  async run() {
    const feed = feedServer();
    const ids = Array.from({ length: USERS }, (_, i) => `user-${i}`);
    feed.change(ids);
    await new Promise<void>((resolve) => feed.server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(feed.server.address() as AddressInfo).port}`;
    const local = createMemoryAdapter();
    const cloud = createCloudBackend({
      url,
      serviceToken: SERVICE_TOKEN,
      lastKnownGood: local.configs,
      pageLimit: 1_000,
      syncIntervalMs: 3_600_000,
    });
    const manager = new TenantManager({ tokens: cloud.tokens, configs: cloud.configs, workspaces: local.workspaces, idleTimeoutMs: 0 });
    await cloud.attach(manager, { start: false });
    const first = await cloud.sync.syncNow();
    if (!first.ok || first.applied !== USERS) throw new Error(`initial sync failed: ${JSON.stringify(first)}`);
    const timeSync = async (changed: string[]) => {
      feed.change(changed);
      const started = performance.now();
      const result = await cloud.sync.syncNow();
      const ms = performance.now() - started;
      if (!result.ok || result.applied !== changed.length) throw new Error(`sync applied ${result.applied} of ${changed.length}`);
      return ms;
    };
    const onePercent: number[] = [];
    const all: number[] = [];
    for (let round = 0; round < 3; round++) {
      onePercent.push(await timeSync(ids.filter((_, i) => (i + round) % 100 === 0)));
      all.push(await timeSync(ids));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1]!;
    await manager.close();
    await new Promise((resolve) => feed.server.close(resolve));
    return {
      figures: [
        { label: 'sync, 100% of 100,000 changed', value: round(median(all), 0), unit: 'ms' },
        { label: 'sync, 1% of 100,000 changed', value: round(median(onePercent), 1), unit: 'ms' },
      ],
      ratio: round(median(onePercent) / median(all), 3),
      goal: { op: '<=', value: 0.05 },
      ratioMeaning: 'time with 1% changed / time with 100% changed (medians of 3 rounds)',
    };
  },
};
