/** Options of {@link PreAuthBudget}. */
export interface PreAuthLimitOptions {
  /** Sockets between upgrade and `hello-ok`, over all addresses (default 1,024). */
  maxSockets?: number;
  /** Sockets between upgrade and `hello-ok` from one address (default 128). */
  maxSocketsPerAddress?: number;
}

/**
 * Bounds sockets that have not authenticated yet, in total and per address. With frames capped at the
 * WebSocket layer before authentication, unauthenticated memory stays under
 * `maxSockets × maxPreAuthBytes` whatever clients send.
 */
export class PreAuthBudget {
  private readonly perAddress = new Map<string, number>();
  private total = 0;
  private readonly maxSockets: number;
  private readonly maxPerAddress: number;

  constructor(options: PreAuthLimitOptions = {}) {
    this.maxSockets = options.maxSockets ?? 1_024;
    this.maxPerAddress = options.maxSocketsPerAddress ?? 128;
  }

  /** Unauthenticated sockets right now. */
  get size(): number {
    return this.total;
  }

  /** Takes a place for a socket from `address`; returns its release (safe to call twice), or `undefined` when full. */
  enter(address: string): (() => void) | undefined {
    const held = this.perAddress.get(address) ?? 0;
    if (this.total >= this.maxSockets || held >= this.maxPerAddress) return undefined;
    this.perAddress.set(address, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
  }
}
