import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OpenClawInstall } from './runtime-install.js';

/**
 * The files a sandboxed cell sees empty so that OpenClaw runs without its spawn broker: the broker's entry, where the
 * installed release has one. On Linux OpenClaw's gateway first starts the broker, a Node process it keeps for its whole
 * life (~66 MB RSS, ~20 MB of it its own), so that commands are not forked from the gateway's large process. An empty
 * entry exits at once; OpenClaw then logs that the broker did not start and spawns from its own process, as it does on
 * macOS and Windows. Its SQLite reader is then its own child, which the relay can give back when idle.
 */
export function withoutSpawnBroker(install: Pick<OpenClawInstall, 'entryPath'>): string[] {
  const entry = join(dirname(install.entryPath), 'dist', 'process', 'spawn-broker', 'worker.js');
  return existsSync(entry) ? [entry] : [];
}
