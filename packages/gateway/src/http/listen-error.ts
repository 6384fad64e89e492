import { MultiTenantError } from '@openclaw-mt/core';

const WHY: Record<string, string> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this host’s',
};

/**
 * The coded error for a listener that could not start: `CONFIG_INVALID` naming the listener, the address
 * and the system's reason (`details.errno`), so a start fails whole with a message the operator can act on.
 */
export function listenError(listener: string, host: string, port: number, error: unknown): MultiTenantError {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
  const shown = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new MultiTenantError('CONFIG_INVALID', `The ${listener} cannot listen on ${shown}: ${WHY[errno] ?? errno} (${errno}).`, {
    details: { reason: 'listen-failed', listener, host, port, errno },
    cause: error,
  });
}
