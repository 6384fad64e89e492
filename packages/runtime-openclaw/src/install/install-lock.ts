import { join } from 'node:path';
import { isMultiTenantError, MultiTenantError } from '@openclaw-mt/core';
import { withFileLock } from '@openclaw-mt/core/helpers';

/** Name of the lock file inside an install directory. */
export const INSTALL_LOCK = '.openclaw-mt-install.lock';

/**
 * Runs `install` holding the install directory's lock file, so two installs into one directory (two
 * terminals, a script run twice) never run npm over each other: the second waits for the first and
 * then usually finds nothing left to do. A lock whose holder is gone (a crash) is broken; a live
 * install is never broken by age, since it runs for minutes. Waiting past `deadline` fails with
 * `BACKEND_UNAVAILABLE`.
 */
export async function withInstallLock<T>(
  dir: string,
  deadline: number,
  onWait: (() => void) | undefined,
  install: () => Promise<T>,
): Promise<T> {
  const path = join(dir, INSTALL_LOCK);
  let holding = false;
  try {
    return await withFileLock(
      path,
      () => {
        holding = true;
        return install();
      },
      {
        timeoutMs: Math.max(0, deadline - Date.now()),
        staleMs: Number.POSITIVE_INFINITY,
        maxRetryDelayMs: 250,
        ...(onWait ? { onWait } : {}),
      },
    );
  } catch (error) {
    if (holding || !isMultiTenantError(error, 'BACKEND_UNAVAILABLE')) throw error;
    throw new MultiTenantError('BACKEND_UNAVAILABLE', `Another install into ${dir} is still running (${path}).`, {
      cause: error,
      details: { step: 'lock', dir },
    });
  }
}
