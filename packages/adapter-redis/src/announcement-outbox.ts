import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isMultiTenantError, MultiTenantError } from '@openclaw-mt/core';
import type { RedisConnection } from './redis-connection.js';
import type { RedisLogger } from './store-options.js';

/** A change that closes sockets on other nodes, waiting to reach Redis. */
export type OutboxEntry =
  | { kind: 'token.revoke'; tokenHash: string }
  | { kind: 'token.announce'; changes: Array<{ type: 'created' | 'revoked' | 'rotated'; tokenHash: string; tenantId: string }> }
  | { kind: 'config.status'; tenantId: string; status: 'active' | 'suspended' | 'deleted' }
  | { kind: 'config.announce'; tenantId: string };

type Handler = (entry: OutboxEntry) => Promise<void>;

/** Options of {@link createAnnouncementOutbox}. */
export interface AnnouncementOutboxOptions {
  /** Node-local directory the entries are kept in (created 0700); every process of a host using it delivers them. */
  dir: string;
  connection: RedisConnection;
  logger: RedisLogger;
  /** How often the directory is looked at for entries other processes left (a CLI that exited). Default 1 s. */
  pollIntervalMs?: number;
}

/** Durable, node-local queue of revocations, suspensions and announcements made while Redis was unreachable. */
export interface AnnouncementOutbox {
  readonly dir: string;
  /** Who applies entries of a kind (the store that made them). */
  handle(kind: OutboxEntry['kind'], handler: Handler): void;
  /** Stores an entry durably (fsynced before this resolves) and tries to deliver it soon. */
  enqueue(entry: OutboxEntry): Promise<void>;
  /** Delivers what is waiting, oldest first; stops at the first entry Redis cannot take yet. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const FILE = /^\d{15}-\d+-[0-9a-f]{8}\.json$/;

/**
 * Revocations and suspensions must reach every node even when they are made while Redis (or, on a
 * Cluster, the master of the slot they write to) is unreachable. The store that cannot write puts the
 * change here — one fsynced file per entry, named so that a directory listing is the order they were
 * made in — and the outbox delivers them when Redis answers again: on reconnect, on a timer, and
 * after each new entry. Every entry is idempotent (revoking twice, announcing twice, setting a status
 * again), so two processes delivering one directory at once do no harm.
 */
export function createAnnouncementOutbox(options: AnnouncementOutboxOptions): AnnouncementOutbox {
  const { dir, connection, logger } = options;
  const handlers = new Map<OutboxEntry['kind'], Handler>();
  let counter = 0;
  let draining: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let failing = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = 250;

  async function drainOnce(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => FILE.test(name)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      if (closed) return;
      const path = join(dir, name);
      let entry: OutboxEntry;
      try {
        entry = JSON.parse(await readFile(path, 'utf8')) as OutboxEntry;
      } catch (error) {
        // Delivered (and removed) by another process meanwhile.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        logger.warn(`Dropping an unreadable outbox entry ${name}.`);
        await unlink(path).catch(() => undefined);
        continue;
      }
      const handler = handlers.get(entry.kind);
      if (handler === undefined) continue;
      try {
        await handler(entry);
      } catch (error) {
        // Kept, with everything after it, in order, unless the entry itself can never succeed: Redis still
        // unreachable, or this process's connection closing while another process's entry was in hand.
        if (!isMultiTenantError(error) || error.retryable || error.code === 'CLOSED') throw error;
        logger.warn(`Dropping outbox entry ${name} (${entry.kind}): ${error instanceof Error ? error.message : String(error)}`);
      }
      await unlink(path).catch(() => undefined);
    }
  }

  function retry(): void {
    if (retryTimer !== undefined || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void outbox.drain();
    }, retryDelay);
    retryTimer.unref();
    retryDelay = Math.min(5_000, retryDelay * 2);
  }

  const poll = setInterval(() => void outbox.drain(), options.pollIntervalMs ?? 1_000);
  poll.unref();
  const unreconnect = connection.onReconnect(() => {
    retryDelay = 250;
    void outbox.drain();
  });

  const outbox: AnnouncementOutbox = {
    dir,
    handle(kind, handler) {
      handlers.set(kind, handler);
    },
    async enqueue(entry) {
      if (closed) throw new MultiTenantError('CLOSED', 'The outbox is closed.');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const name = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${(counter++ % 0xffffffff).toString(16).padStart(8, '0')}.json`;
      const temp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
      const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        await file.writeFile(JSON.stringify(entry));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, join(dir, name));
      retry();
    },
    drain() {
      if (closed) return Promise.resolve();
      if (draining) {
        again = true;
        return draining;
      }
      draining = drainOnce()
        .then(() => {
          if (closed) return;
          if (failing) logger.warn('Redis answers again: the queued revocations, suspensions and announcements were delivered.');
          failing = false;
          retryDelay = 250;
        })
        .catch((error) => {
          if (!failing)
            logger.warn(
              `Redis is still unreachable; queued changes wait in ${dir}.`,
              error instanceof Error ? error.message : String(error),
            );
          failing = true;
          retry();
        })
        .finally(() => {
          draining = undefined;
          if (again) {
            again = false;
            void outbox.drain();
          }
        });
      return draining;
    },
    async close() {
      closed = true;
      clearInterval(poll);
      if (retryTimer) clearTimeout(retryTimer);
      unreconnect();
      await draining;
    },
  };
  return outbox;
}

/** The error a caller gets when its change could not be written now and was queued instead. */
export function queuedError(what: string, dir: string, cause: unknown): MultiTenantError {
  return new MultiTenantError(
    'BACKEND_UNAVAILABLE',
    `Redis is unreachable, so the ${what} is queued in ${dir} and will be applied and announced to every node when Redis answers again; do not repeat it.`,
    { cause, details: { queued: true } },
  );
}

/** Whether a failure is one worth queueing for (Redis unreachable), rather than a refusal. */
export function isUnreachable(error: unknown): boolean {
  return isMultiTenantError(error, 'BACKEND_UNAVAILABLE');
}
