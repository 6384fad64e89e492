import { type ErrorCode, isRetryableCode } from './error-codes.js';

/** Options accepted by {@link MultiTenantError}. */
export interface MultiTenantErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Milliseconds after which a retry may succeed (capacity, rate limits, outages). */
  retryAfterMs?: number;
  /** Structured, secret-free facts for clients and logs (for example `{ owner }` for `LEASE_HELD`). */
  details?: Record<string, unknown>;
  /**
   * Overrides the code's own retryability, for a failure whose code is final elsewhere but not here (a
   * node that is shutting down: `CLOSED`, yet the same request succeeds on another node).
   */
  retryable?: boolean;
}

// A registry-wide symbol, so two copies of core (say, an adapter bundling its own) still recognise each other's errors.
const BRAND = Symbol.for('openclaw-mt.error');

/**
 * The one error class of openclaw-mt. `code` is stable and machine-readable; `message` tells a person
 * what to do. Messages and details never contain tokens or other secrets.
 */
export class MultiTenantError extends Error {
  override readonly name = 'MultiTenantError';
  /** Stable, machine-readable code. */
  readonly code: ErrorCode;
  /** Whether retrying the same operation later may succeed. */
  readonly retryable: boolean;
  /** Suggested wait before retrying, when known. */
  readonly retryAfterMs: number | undefined;
  /** Structured, secret-free facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: MultiTenantErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? isRetryableCode(code);
    this.retryAfterMs = options.retryAfterMs;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** A plain object safe to send to a client or write to a log. */
  toJSON(): { code: ErrorCode; message: string; retryable: boolean; retryAfterMs?: number; details: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      details: { ...this.details },
    };
  }
}

/** Whether `error` is a {@link MultiTenantError}, optionally with the given code. */
export function isMultiTenantError(error: unknown, code?: ErrorCode): error is MultiTenantError {
  const branded = typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  return branded && (code === undefined || (error as MultiTenantError).code === code);
}

/** Wraps any thrown value as a {@link MultiTenantError}, keeping coded errors as they are. */
export function toMultiTenantError(error: unknown, fallback: ErrorCode = 'INTERNAL', message?: string): MultiTenantError {
  if (isMultiTenantError(error)) return error;
  const text = message ?? (error instanceof Error ? error.message : String(error));
  return new MultiTenantError(fallback, text, { cause: error });
}
