import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisConnection, RedisKeys, type RedisConnection, type RedisConnectionOptions } from '@openclaw-mt/adapter-redis';

/** Deletes every key under `prefix` (SCAN + DEL, on every master of a Cluster). */
export async function deletePrefix(connection: RedisConnection, prefix: string): Promise<void> {
  const pattern = new RedisKeys(prefix).everything;
  const found: string[] = [];
  for await (const key of connection.scan(pattern)) found.push(key);
  // One DEL per key: keys of different tenants live in different Cluster slots.
  await Promise.all(found.map((key) => connection.send(key, ['DEL', key])));
}

/** Tracks temp dirs and prefixes a test file creates, and removes them all at the end. */
export class Leftovers {
  readonly #dirs = new Set<string>();
  readonly #prefixes = new Set<string>();
  #connection: RedisConnection | undefined;

  constructor(private readonly source: RedisConnectionOptions) {}

  async tempDir(label = 'ws'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `ocmt-${label}-`));
    this.#dirs.add(dir);
    return dir;
  }

  prefix(prefix: string): string {
    this.#prefixes.add(prefix);
    return prefix;
  }

  /** A connection for test-side reads and cleanup. */
  get connection(): RedisConnection {
    this.#connection ??= createRedisConnection(this.source);
    return this.#connection;
  }

  async removeDir(dir: string): Promise<void> {
    this.#dirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }

  async removePrefix(prefix: string): Promise<void> {
    this.#prefixes.delete(prefix);
    await deletePrefix(this.connection, prefix);
  }

  async cleanup(): Promise<void> {
    for (const prefix of [...this.#prefixes]) await this.removePrefix(prefix).catch(() => undefined);
    for (const dir of [...this.#dirs]) await this.removeDir(dir);
    await this.#connection?.close();
    this.#connection = undefined;
  }
}
