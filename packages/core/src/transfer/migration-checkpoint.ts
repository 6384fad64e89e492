/**
 * Where a migration remembers which tenants are done, so an interrupted run resumes where it
 * stopped. Marks may be buffered (a lost mark only means that tenant is re-checked, which moves
 * nothing); `flush` persists them.
 */
export interface MigrationCheckpoint {
  /** Tenants an earlier run moved and verified. */
  load(): Promise<Iterable<string>>;
  /** Records that a tenant was moved (or found equal) and verified. */
  markDone(tenantId: string): Promise<void>;
  /** Persists buffered marks; called when the migration ends, however it ends. */
  flush?(): Promise<void>;
}

/** A {@link MigrationCheckpoint} in memory (tests, one-shot runs). */
export function createMemoryCheckpoint(initial: Iterable<string> = []): MigrationCheckpoint & { readonly done: ReadonlySet<string> } {
  const done = new Set(initial);
  return {
    done,
    async load() {
      return [...done];
    },
    async markDone(tenantId) {
      done.add(tenantId);
    },
  };
}
