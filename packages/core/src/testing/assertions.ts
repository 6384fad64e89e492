import assert from 'node:assert/strict';
import type { ErrorCode } from '../errors/error-codes.js';
import { isMultiTenantError } from '../errors/multi-tenant-error.js';

/** Asserts that `action` rejects with a coded error carrying `code`. */
export async function rejectsWithCode(action: () => Promise<unknown>, code: ErrorCode, what = 'the call'): Promise<void> {
  let outcome: unknown;
  try {
    await action();
    outcome = undefined;
  } catch (error) {
    outcome = error;
  }
  if (outcome === undefined) assert.fail(`${what} should have failed with ${code} but succeeded`);
  assert.ok(isMultiTenantError(outcome), `${what} should throw a MultiTenantError, got ${String(outcome)}`);
  assert.equal(outcome.code, code, `${what} should fail with ${code}, got ${outcome.code}: ${outcome.message}`);
}

/** Resolves once `predicate` holds, polling every 10 ms; fails after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
