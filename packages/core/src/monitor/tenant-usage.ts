/** What one active tenant's own processes cost the host, for runtimes that run a process per tenant. */
export interface TenantUsage {
  tenantId: string;
  /** Resident memory of the tenant's whole process tree, in bytes (0 while none runs). */
  rssBytes: number;
  /**
   * Of it, the anonymous memory (Linux `RssAnon`): without the pages of files the processes map, such as a runtime's
   * binary, which RSS counts once per process and the host holds once. What the tenant alone takes from the host.
   */
  anonBytes?: number;
  /** CPU time the tenant's live processes have used since they started, in seconds. */
  cpuSeconds: number;
  /** Disk the tenant's directories occupy, in bytes. */
  diskBytes: number;
}

/** The sum over tenants, as the monitor and `stats` show it. */
export interface UsageTotals {
  tenants: number;
  rssBytes: number;
  /** Present when every tenant's usage has it. */
  anonBytes?: number;
  cpuSeconds: number;
  diskBytes: number;
}

/** Adds up per-tenant usage. */
export function totalUsage(usage: readonly TenantUsage[]): UsageTotals {
  const totals: UsageTotals = { tenants: usage.length, rssBytes: 0, cpuSeconds: 0, diskBytes: 0 };
  for (const tenant of usage) {
    totals.rssBytes += tenant.rssBytes;
    totals.cpuSeconds += tenant.cpuSeconds;
    totals.diskBytes += tenant.diskBytes;
  }
  totals.cpuSeconds = Math.round(totals.cpuSeconds * 100) / 100;
  if (usage.length > 0 && usage.every((tenant) => tenant.anonBytes !== undefined))
    totals.anonBytes = usage.reduce((sum, tenant) => sum + tenant.anonBytes!, 0);
  return totals;
}
