import { MultiTenantError } from '../errors/multi-tenant-error.js';
import type { WorkspaceLimits } from '../contracts/workspace-store.js';

/** Limits used when an adapter is given none: 10 MiB per file, 100 MiB per tenant. */
export const DEFAULT_WORKSPACE_LIMITS: WorkspaceLimits = Object.freeze({
  maxFileBytes: 10 * 1024 * 1024,
  maxWorkspaceBytes: 100 * 1024 * 1024,
});

/** Fills in defaults and checks that limits are positive integers. */
export function resolveWorkspaceLimits(limits: Partial<WorkspaceLimits> = {}): WorkspaceLimits {
  const resolved = { ...DEFAULT_WORKSPACE_LIMITS, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new MultiTenantError('CONFIG_INVALID', `limits.${key}: expected a positive integer number of bytes.`);
    }
  }
  return Object.freeze(resolved);
}

/**
 * Throws `FILE_TOO_LARGE` or `QUOTA_EXCEEDED` when writing `newSize` bytes over a file of `oldSize`
 * bytes would break a limit, given the tenant's current `usage`.
 */
export function assertWithinLimits(limits: WorkspaceLimits, name: string, newSize: number, oldSize: number, usage: number): void {
  if (newSize > limits.maxFileBytes) {
    throw new MultiTenantError('FILE_TOO_LARGE', `${name}: ${newSize} bytes exceeds the per-file limit of ${limits.maxFileBytes}.`, {
      details: { name, size: newSize, limit: limits.maxFileBytes },
    });
  }
  const total = usage - oldSize + newSize;
  if (total > limits.maxWorkspaceBytes) {
    throw new MultiTenantError('QUOTA_EXCEEDED', `Workspace would hold ${total} bytes, over its limit of ${limits.maxWorkspaceBytes}.`, {
      details: { name, usage, limit: limits.maxWorkspaceBytes },
    });
  }
}

/** Encodes string data as UTF-8; passes bytes through. */
export function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (data instanceof Uint8Array) return data;
  throw new MultiTenantError('BAD_REQUEST', 'File data must be a string or a Uint8Array.');
}
