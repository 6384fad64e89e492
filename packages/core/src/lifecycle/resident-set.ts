import { LRUMapWithDelete } from 'mnemonist';

/** Anything the resident set can hold: it only needs to know whether an item is in use. */
export interface Pinnable {
  /** Open leases; a tenant with `pins > 0` is never chosen for eviction. */
  pins: number;
  /** Maintained by the set: whether the item is currently in it. */
  resident: boolean;
}

/** The result of {@link ResidentSet.admit}. */
export type Admission<T> = { admitted: true; victim?: { id: string; item: T } } | { admitted: false };

/**
 * The tenants in memory, in least-recently-used order, never more than `capacity` of them.
 * Admission at capacity evicts the least recently used tenant that is not pinned, in O(1) through
 * mnemonist's `setpop`; a pinned tenant that reaches the tail is moved to the front instead (it is in
 * use, so it is recent) and the next candidate is tried. When every tenant is pinned, admission fails
 * without touching the order.
 */
export class ResidentSet<T extends Pinnable> {
  /** The most the set can ever hold (its allocation). */
  readonly maxCapacity: number;
  private readonly lru: LRUMapWithDelete<string, T>;
  private pinnedCount = 0;
  private limit: number;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.maxCapacity = capacity;
    this.limit = capacity;
    this.lru = new LRUMapWithDelete<string, T>(capacity);
  }

  /** How many items the set admits now: at most `maxCapacity`, lowered by {@link setCapacity}. */
  get capacity(): number {
    return this.limit;
  }

  /**
   * Changes how many items the set admits (clamped to 1..maxCapacity). Lowering it evicts nothing at
   * once: each later admission over the new limit evicts the least recently used unpinned item.
   */
  setCapacity(capacity: number): number {
    if (!Number.isFinite(capacity)) throw new RangeError('capacity must be a number');
    this.limit = Math.max(1, Math.min(this.maxCapacity, Math.floor(capacity)));
    return this.limit;
  }

  /** Tenants in memory, pinned or not. */
  get size(): number {
    return this.lru.size;
  }

  /** Tenants in memory with at least one pin. */
  get pinned(): number {
    return this.pinnedCount;
  }

  /** The item for `id`, marking it most recently used. */
  get(id: string): T | undefined {
    return this.lru.get(id);
  }

  /** The item for `id`, leaving the order alone. */
  peek(id: string): T | undefined {
    return this.lru.peek(id);
  }

  /** Adds a pin to a resident item. */
  pin(item: T): void {
    if (item.pins++ === 0 && item.resident) this.pinnedCount++;
  }

  /** Removes a pin; returns true when the item became evictable. */
  unpin(item: T): boolean {
    if (item.pins <= 0) return false;
    if (--item.pins > 0) return false;
    if (item.resident) this.pinnedCount--;
    return true;
  }

  /**
   * Adds `item` (whose id must not be resident) as most recently used. At capacity, removes and returns
   * the least recently used unpinned item as `victim`; when all are pinned, admits nothing.
   */
  admit(id: string, item: T): Admission<T> {
    // The caller has just seen `id` absent; checking again would cost a lookup in a map of up to
    // `capacity` entries on every activation.
    if (this.lru.size < this.limit) {
      this.lru.set(id, item);
      this.markResident(item);
      return { admitted: true };
    }
    if (this.pinnedCount >= this.lru.size) return { admitted: false };
    if (this.limit < this.maxCapacity) return this.admitUnderLimit(id, item);
    this.markResident(item);
    let key = id;
    let value = item;
    for (;;) {
      const evicted = this.lru.setpop(key, value)!;
      if (evicted.value.pins === 0) {
        evicted.value.resident = false;
        return { admitted: true, victim: { id: evicted.key, item: evicted.value } };
      }
      key = evicted.key;
      value = evicted.value;
    }
  }

  /**
   * Admission at a lowered limit, where the map itself is not full and so would not evict: the least
   * recently used unpinned item leaves first. Linear in the set's size, which a lowered limit keeps small.
   */
  private admitUnderLimit(id: string, item: T): Admission<T> {
    let victim: { id: string; item: T } | undefined;
    for (const [key, value] of this.lru.entries()) if (value.pins === 0) victim = { id: key, item: value };
    if (victim === undefined) return { admitted: false };
    this.lru.delete(victim.id);
    victim.item.resident = false;
    this.lru.set(id, item);
    this.markResident(item);
    return { admitted: true, victim };
  }

  /** Removes `id` if it holds exactly `item`; returns whether it did. */
  remove(id: string, item: T): boolean {
    if (!item.resident || this.lru.peek(id) !== item) return false;
    this.lru.delete(id);
    item.resident = false;
    if (item.pins > 0) this.pinnedCount--;
    return true;
  }

  private markResident(item: T): void {
    item.resident = true;
    if (item.pins > 0) this.pinnedCount++;
  }

  /** Resident ids, most recently used first. */
  ids(): string[] {
    return [...this.lru.keys()];
  }

  /** Resident items, most recently used first. */
  items(): T[] {
    return [...this.lru.values()];
  }
}
