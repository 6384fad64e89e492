import { close, constants, fchmodSync, fstatSync, openSync, read } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';
import { createListeners } from '@openclaw-mt/core/contracts';
import { startChangePoller, type ChangePoller } from './change-poller.js';
import { FILE_MODE } from './permissions.js';
import { errnoCode } from './storage-error.js';
import { withFileLock } from '@openclaw-mt/core/helpers';

const readAsync = promisify(read);
const closeAsync = promisify(close);

/** Options for {@link createChangeJournal}. */
export interface ChangeJournalOptions<T> {
  /** The journal file. Sealed segments go to `<path>.<n>`, n increasing. */
  path: string;
  /** Turns one parsed JSON line into an event, or `undefined` to skip a line it does not recognise. */
  parse(value: unknown): T | undefined;
  /** Longest delay before a watcher sees an appended event. */
  pollIntervalMs: number;
  /** Rotate the journal once it grows past this many bytes (default 8 MiB). */
  maxBytes?: number;
}

/** An append-only change log on disk, shared by every process using the same root. */
export interface ChangeJournal<T> {
  /** Appends one event (after the change it describes is committed). */
  append(event: T): Promise<void>;
  /** Calls `listener` with every event appended from now on, by any process. */
  subscribe(listener: (event: T) => void): () => void;
  /** Stops tailing and drops every listener. */
  close(): void;
}

/** How long a rotated-away journal is still read, for appends that opened it just before the rename. */
const DRAIN_AFTER_ROTATION_MS = 5_000;
/** Sealed segments are deleted this long after their last write: far longer than any watcher's poll. */
const SEGMENT_RETENTION_MS = 10 * 60 * 1000;
const CHUNK = 64 * 1024;

interface Tail {
  fd: number;
  ino: number;
  offset: number;
  decoder: StringDecoder;
  rest: string;
  /** Set once the file was rotated away: stop reading it at this time. */
  until?: number;
}

interface Tailer {
  current: Tail | undefined;
  draining: Tail[];
  stopped: boolean;
  /** The check in progress (or the last one). */
  checking: Promise<void>;
  poller: ChangePoller | undefined;
}

interface Segment {
  path: string;
  number: number;
  ino: number;
  modifiedAt: number;
}

/** The sealed segments (`<journal>.<n>`) of a journal, oldest first. */
async function listSegments(path: string): Promise<Segment[]> {
  const prefix = `${basename(path)}.`;
  const segments: Segment[] = [];
  for (const name of await readdir(dirname(path))) {
    if (!name.startsWith(prefix) || !/^\d{1,15}$/.test(name.slice(prefix.length))) continue;
    const full = join(dirname(path), name);
    const stats = await stat(full).catch(() => undefined);
    if (stats !== undefined)
      segments.push({ path: full, number: Number(name.slice(prefix.length)), ino: stats.ino, modifiedAt: stats.mtimeMs });
  }
  return segments.sort((a, b) => a.number - b.number);
}

/** Opens a sealed segment to read it from the start. */
function openSegment(path: string): Tail | undefined {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    return { fd, ino: fstatSync(fd).ino, offset: 0, decoder: new StringDecoder('utf8'), rest: '' };
  } catch {
    return undefined;
  }
}

function openTail(path: string, fromStart: boolean): Tail | undefined {
  let fd: number;
  try {
    // O_CREAT so a watcher started before the first write still holds the file writers append to.
    fd = openSync(path, constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW, FILE_MODE);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const stats = fstatSync(fd);
  if ((stats.mode & 0o777) !== FILE_MODE) {
    try {
      fchmodSync(fd, FILE_MODE);
    } catch {
      // Not ours to change (another user's journal): reading it is still fine.
    }
  }
  return { fd, ino: stats.ino, offset: fromStart ? 0 : stats.size, decoder: new StringDecoder('utf8'), rest: '' };
}

/**
 * Creates a change journal: each event is one JSON line appended with `O_APPEND` in a single
 * `write()`, so concurrent writers in different processes never interleave. Every line starts with a
 * newline too, so a line torn by a crash cannot swallow the next writer's line. Watchers tail the file
 * (fs.watch for speed, polling as the guarantee). Past `maxBytes` the file is sealed under a lock as
 * segment `<path>.<n>` (n only grows; segments are kept for 10 minutes): a watcher that finds the file
 * rotated reads every segment sealed after its own, in order, and keeps reading rotated files for a
 * few seconds for appends that opened them just before the rename, so no event is lost.
 */
export function createChangeJournal<T>(options: ChangeJournalOptions<T>): ChangeJournal<T> {
  const { path } = options;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  const listeners = createListeners<T>();
  let subscribers = 0;
  let tailer: Tailer | undefined;

  const consume = (tail: Tail, text: string): void => {
    const lines = (tail.rest + text).split('\n');
    tail.rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      const event = options.parse(value);
      if (event !== undefined) listeners.emit(event);
    }
  };

  // One tailer per run of subscriptions; a stopped tailer closes its descriptors only after its last
  // check has finished, so a read never lands on a descriptor number reused by someone else.
  const startTailer = (): Tailer => {
    const state: Tailer = { current: openTail(path, false), draining: [], stopped: false, checking: Promise.resolve(), poller: undefined };

    const drain = async (tail: Tail): Promise<void> => {
      const buffer = Buffer.alloc(CHUNK);
      while (!state.stopped) {
        const { bytesRead } = await readAsync(tail.fd, buffer, 0, CHUNK, tail.offset);
        if (bytesRead === 0) return;
        tail.offset += bytesRead;
        consume(tail, tail.decoder.write(buffer.subarray(0, bytesRead)));
      }
    };

    /**
     * Follows a rotation: opens the new active file first (so nothing rotated after this point can
     * slip past), then reads every sealed segment rotated after the one we were tailing, in order.
     */
    const followRotation = async (now: number): Promise<void> => {
      const previous = state.current;
      const next = openTail(path, true);
      if (previous !== undefined) {
        state.draining.push({ ...previous, until: now + DRAIN_AFTER_ROTATION_MS });
        const sealed = await listSegments(path);
        const ours = sealed.findIndex((segment) => segment.ino === previous.ino);
        // Our file is not among the segments (removed by hand, or expired after a very long stall): nothing to catch up.
        for (const segment of ours === -1 ? [] : sealed.slice(ours + 1)) {
          if (segment.ino === next?.ino) break;
          const missed = openSegment(segment.path);
          if (missed === undefined) continue;
          await drain(missed);
          state.draining.push({ ...missed, until: now + DRAIN_AFTER_ROTATION_MS });
        }
      }
      state.current = next;
      if (next !== undefined) await drain(next);
    };

    const check = async (): Promise<void> => {
      if (state.current !== undefined) await drain(state.current);
      const now = Date.now();
      const onDisk = await stat(path).catch(() => undefined);
      if (state.stopped) return;
      // A missing file means a rotation too: the last append sealed it and nobody has appended since.
      if (onDisk === undefined || onDisk.ino !== state.current?.ino) await followRotation(now);
      const keep: Tail[] = [];
      for (const tail of state.draining) {
        await drain(tail);
        if (now < (tail.until ?? 0)) keep.push(tail);
        else await closeAsync(tail.fd).catch(() => undefined);
      }
      state.draining = keep;
    };

    state.poller = startChangePoller({
      directory: dirname(path),
      intervalMs: options.pollIntervalMs,
      check: () => {
        state.checking = check();
        return state.checking;
      },
    });
    return state;
  };

  const stopTailer = (state: Tailer): void => {
    state.stopped = true;
    state.poller?.stop();
    void state.checking
      .catch(() => undefined)
      .then(() => {
        for (const tail of [state.current, ...state.draining]) if (tail !== undefined) close(tail.fd, () => undefined);
      });
  };

  const rotate = async (): Promise<void> => {
    await withFileLock(`${path}.lock`, async () => {
      const stats = await stat(path).catch(() => undefined);
      if (stats === undefined || stats.size <= maxBytes) return;
      const sealed = await listSegments(path);
      // Segment numbers only grow, so a watcher can always tell which segments came after its own.
      await rename(path, `${path}.${(sealed.at(-1)?.number ?? 0) + 1}`);
      const now = Date.now();
      for (const segment of sealed) if (now - segment.modifiedAt > SEGMENT_RETENTION_MS) await unlink(segment.path).catch(() => undefined);
    });
  };

  return {
    async append(event) {
      const line = `\n${JSON.stringify(event)}\n`;
      const file = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, FILE_MODE);
      let size: number;
      try {
        const stats = await file.stat();
        if ((stats.mode & 0o777) !== FILE_MODE) await file.chmod(FILE_MODE);
        // One write() per event: O_APPEND writes of this size are never interleaved with other writers'.
        const { bytesWritten } = await file.write(line);
        size = stats.size + bytesWritten;
      } finally {
        await file.close();
      }
      if (size > maxBytes) await rotate();
      tailer?.poller?.kick();
    },
    subscribe(listener) {
      const remove = listeners.add(listener);
      subscribers++;
      // The first subscriber opens the journal synchronously, so every event appended after
      // subscribe() returns is seen.
      if (subscribers === 1) tailer = startTailer();
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        remove();
        subscribers--;
        if (subscribers === 0 && tailer !== undefined) {
          stopTailer(tailer);
          tailer = undefined;
        }
      };
    },
    close() {
      listeners.clear();
      subscribers = 0;
      if (tailer !== undefined) stopTailer(tailer);
      tailer = undefined;
    },
  };
}
