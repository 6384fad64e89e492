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

/**
 * Asserts that `actual` has exactly the fields of `expected`, with equal values; a failure names the
 * method, the first differing field, the expected and the actual value.
 */
export function assertSameFields(method: string, actual: unknown, expected: object): void {
  if (typeof actual !== 'object' || actual === null)
    assert.fail(`${method} returned ${JSON.stringify(actual)}, expected a record ${JSON.stringify(expected)}`);
  const got = actual as Record<string, unknown>;
  const want = expected as Record<string, unknown>;
  for (const field of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (want[field] === undefined && got[field] === undefined) continue;
    assert.deepStrictEqual(
      got[field],
      want[field],
      `${method}: field "${field}" expected ${JSON.stringify(want[field])}, actual ${JSON.stringify(got[field])}`,
    );
  }
}

/** Collects an async iterable (a store's `tenants()`). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
