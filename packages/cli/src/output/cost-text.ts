/** Bytes as an operator reads them (MiB below a GiB, GiB above). */
export function bytesText(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** What a tenant's own processes cost, in one line. */
export function costText(usage: { rssBytes: number; cpuSeconds: number; diskBytes: number }): string {
  return `memory ${bytesText(usage.rssBytes)}, CPU ${usage.cpuSeconds.toFixed(1)} s, disk ${bytesText(usage.diskBytes)}`;
}
