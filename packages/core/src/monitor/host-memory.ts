import { readFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';

/** The host's memory, as the kernel sees it. */
export interface HostMemory {
  /** Memory new processes can get without swapping (`MemAvailable`: free memory plus reclaimable caches), in bytes. */
  availableBytes: number;
  totalBytes: number;
}

/** Reads `MemAvailable` and `MemTotal` from a `/proc/meminfo` text; `undefined` when either is missing. */
export function parseMeminfo(text: string): HostMemory | undefined {
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    return match === null ? undefined : Number(match[1]) * 1024;
  };
  const availableBytes = field('MemAvailable');
  const totalBytes = field('MemTotal');
  return availableBytes === undefined || totalBytes === undefined ? undefined : { availableBytes, totalBytes };
}

/**
 * The host's available and total memory. Linux's `MemAvailable` counts caches the kernel would drop
 * for a new process; elsewhere (or without `/proc`) Node's free memory, which counts them as used.
 */
export async function hostMemory(): Promise<HostMemory> {
  try {
    const parsed = parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
    if (parsed !== undefined) return parsed;
  } catch {
    // No /proc: fall through.
  }
  return { availableBytes: freemem(), totalBytes: totalmem() };
}

/** Default low-memory threshold: 10 % of the host's memory, at most 1 GiB. */
export function defaultHostMemoryLowBytes(totalBytes: number): number {
  return Math.min(1024 ** 3, Math.floor(totalBytes * 0.1));
}
