/** Bytes as an operator reads them (MiB below a GiB, GiB above). */
export function bytesText(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

/**
 * What a tenant's own processes cost, in one line. Memory is their RSS and, when measured, the part of it that is
 * theirs alone (anonymous memory: without the binary's pages every process shares).
 */
export function costText(usage: { rssBytes: number; anonBytes?: number; cpuSeconds: number; diskBytes: number }): string {
  const own = usage.anonBytes === undefined ? '' : ` (${bytesText(usage.anonBytes)} its own)`;
  return `memory ${bytesText(usage.rssBytes)}${own}, CPU ${usage.cpuSeconds.toFixed(1)} s, disk ${bytesText(usage.diskBytes)}`;
}
