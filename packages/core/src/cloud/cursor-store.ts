import { z } from 'zod';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { readStateFile, writeStateFile } from './state-file.js';
import { MAX_CURSOR_LENGTH } from './wire-contract.js';

/** Where config sync stands: the opaque cursor to resume from, and the ETag received for one cursor. */
export interface SyncCursorState {
  /** Cursor to pass on the next request; from the start when absent. */
  cursor?: string;
  /** The ETag of the last answer and the cursor it answered, sent as `If-None-Match` only for that cursor. */
  etag?: { cursor: string | null; value: string };
  /** Epoch milliseconds of the save (informational). */
  savedAt?: number;
}

/** Persists {@link SyncCursorState} so a restart resumes the feed instead of starting over. */
export interface SyncCursorStore {
  readonly name: string;
  /** The saved state, or `undefined` when nothing was saved (or what was saved is unreadable). */
  load(): Promise<SyncCursorState | undefined>;
  save(state: SyncCursorState): Promise<void>;
}

const stateSchema = z.object({
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
  etag: z.object({ cursor: z.string().max(MAX_CURSOR_LENGTH).nullable(), value: z.string().min(1).max(1_024) }).optional(),
  savedAt: z.number().optional(),
});

/** Checks a state before it is saved; throws `CONFIG_INVALID`. */
function validState(state: SyncCursorState): SyncCursorState {
  const parsed = stateSchema.safeParse(state);
  if (!parsed.success)
    throw new MultiTenantError('CONFIG_INVALID', 'Refusing to save an invalid sync cursor state.', { cause: parsed.error });
  return parsed.data;
}

/** A cursor store in process memory (the default; a restart starts the feed over, which is safe but slower). */
export function createMemoryCursorStore(initial?: SyncCursorState): SyncCursorStore & { readonly state: SyncCursorState | undefined } {
  let state = initial && structuredClone(initial);
  return {
    name: 'memory',
    get state() {
      return state && structuredClone(state);
    },
    async load() {
      return state && structuredClone(state);
    },
    async save(next) {
      state = structuredClone(validState(next));
    },
  };
}

/**
 * A cursor store in one small JSON file, written atomically (temp file in the same directory →
 * fsync → rename → fsync of the directory), mode 0600. A missing file means "from the start"; so
 * does a corrupt one (reported through `onCorrupt`), since starting over is always safe: versions
 * decide what is applied.
 */
export function createFileCursorStore(path: string, options: { onCorrupt?: (error: MultiTenantError) => void } = {}): SyncCursorStore {
  if (typeof path !== 'string' || path.length === 0)
    throw new MultiTenantError('CONFIG_INVALID', 'cursor store path: expected a file path.');
  return {
    name: 'file',
    async load() {
      let text: string | undefined;
      try {
        text = await readStateFile(path);
      } catch (error) {
        throw new MultiTenantError('BACKEND_UNAVAILABLE', `Cannot read the sync cursor file ${path}.`, { cause: error });
      }
      if (text === undefined) return undefined;
      try {
        return stateSchema.parse(JSON.parse(text));
      } catch (error) {
        options.onCorrupt?.(
          new MultiTenantError('CONFIG_INVALID', `The sync cursor file ${path} is unreadable; syncing from the start.`, { cause: error }),
        );
        return undefined;
      }
    },
    async save(state) {
      const data = `${JSON.stringify(validState(state))}\n`;
      try {
        await writeStateFile(path, data);
      } catch (error) {
        throw new MultiTenantError('BACKEND_UNAVAILABLE', `Cannot write the sync cursor file ${path}.`, { cause: error });
      }
    },
  };
}
