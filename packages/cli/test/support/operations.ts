import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from '@redis/client';

/** The admin token a `serve` generated in `<dataDir>/admin-token`. */
export async function adminToken(dataDir: string): Promise<string> {
  return (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
}

/** Calls the admin endpoint as a monitoring system would. */
export async function adminFetch(
  adminUrl: string,
  dataDir: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; text: string; json: <T = unknown>() => T }> {
  const response = await fetch(`${adminUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${await adminToken(dataDir)}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, text, json: <T = unknown>() => JSON.parse(text) as T };
}

/** One sample of a Prometheus text exposition (`name{label="value"}`), or undefined. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter(Boolean).sort();
    if (have.length === wanted.length && have.every((label, index) => label === wanted[index])) return Number(match[3]);
  }
  return undefined;
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Deletes every key under a Redis prefix (the server is shared: SCAN + DEL, never FLUSH). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: 'redis://127.0.0.1:6379' });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) if (keys.length > 0) await client.del(keys);
  await client.close();
}
