import { MultiTenantError } from '../errors/multi-tenant-error.js';

interface Waiter {
  wake: () => void;
  fail: (error: MultiTenantError) => void;
}

/**
 * Callers waiting for a slot when every resident tenant is pinned: bounded in length and in time.
 * A freed slot wakes the oldest waiter, which then retries admission.
 */
export class AdmissionQueue {
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly maxLength: number,
    private readonly retryAfterMs: number,
  ) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Resolves when a slot may be free; rejects with `CAPACITY` when the queue is full or `deadline` passes. */
  wait(deadline: number, now: number): Promise<void> {
    if (this.waiters.length >= this.maxLength) return Promise.reject(this.capacityError('the wait queue is full'));
    const remaining = deadline - now;
    if (remaining <= 0) return Promise.reject(this.capacityError('no slot became free in time'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drop(waiter);
        reject(this.capacityError('no slot became free in time'));
      }, remaining);
      timer.unref();
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Lets the oldest waiter retry. */
  wakeOne(): void {
    this.waiters.shift()?.wake();
  }

  /** Rejects every waiter (on close). */
  failAll(error: MultiTenantError): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }

  capacityError(why: string): MultiTenantError {
    return new MultiTenantError('CAPACITY', `Every tenant slot is in use (${why}); retry shortly.`, { retryAfterMs: this.retryAfterMs });
  }

  private drop(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
  }
}
