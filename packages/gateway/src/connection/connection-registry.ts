/** What the registry needs to know about a connection. */
export interface RegisteredConnection {
  readonly tenantId: string;
  readonly tokenHash: string;
  close(code: number, reason: string): void;
}

/** Open connections indexed by tenant and by token, so revocations and suspensions find their sockets. */
export class ConnectionRegistry<C extends RegisteredConnection> {
  private readonly byTenant = new Map<string, Set<C>>();
  private readonly byToken = new Map<string, Set<C>>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  add(connection: C): void {
    index(this.byTenant, connection.tenantId, connection);
    index(this.byToken, connection.tokenHash, connection);
    this.total++;
  }

  delete(connection: C): void {
    if (unindex(this.byTenant, connection.tenantId, connection)) this.total--;
    unindex(this.byToken, connection.tokenHash, connection);
  }

  /** Open connections of one tenant. */
  countOf(tenantId: string): number {
    return this.byTenant.get(tenantId)?.size ?? 0;
  }

  /** Tenants with at least one open connection, and how many. */
  tenants(): Array<{ tenantId: string; connections: number }> {
    return [...this.byTenant].map(([tenantId, set]) => ({ tenantId, connections: set.size }));
  }

  /** Closes every connection of a tenant; returns how many. */
  closeTenant(tenantId: string, code: number, reason: string): number {
    return closeAll(this.byTenant.get(tenantId), code, reason);
  }

  /**
   * Closes a tenant's connections beyond the first `keep`, newest first to go: connections are kept in
   * the order they were admitted, so the oldest sessions stay. Returns how many were closed.
   */
  closeNewestBeyond(tenantId: string, keep: number, code: number, reason: string): number {
    const set = this.byTenant.get(tenantId);
    if (set === undefined || set.size <= keep) return 0;
    const excess = [...set].slice(Math.max(0, keep));
    for (const connection of excess) connection.close(code, reason);
    return excess.length;
  }

  /** Closes every connection authenticated with a token; returns how many. */
  closeToken(tokenHash: string, code: number, reason: string): number {
    return closeAll(this.byToken.get(tokenHash), code, reason);
  }

  /** Open connections authenticated with a token. */
  ofToken(tokenHash: string): C[] {
    return [...(this.byToken.get(tokenHash) ?? [])];
  }

  /** Every open connection. */
  all(): C[] {
    return [...this.byTenant.values()].flatMap((set) => [...set]);
  }
}

function index<C>(map: Map<string, Set<C>>, key: string, value: C): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function unindex<C>(map: Map<string, Set<C>>, key: string, value: C): boolean {
  const set = map.get(key);
  if (set === undefined || !set.delete(value)) return false;
  if (set.size === 0) map.delete(key);
  return true;
}

function closeAll<C extends RegisteredConnection>(set: Set<C> | undefined, code: number, reason: string): number {
  if (set === undefined) return 0;
  const targets = [...set];
  for (const connection of targets) connection.close(code, reason);
  return targets.length;
}
