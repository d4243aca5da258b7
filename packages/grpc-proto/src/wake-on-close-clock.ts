import type { Clock, TimerHandle } from '@clone/service-errors';

/**
 * The clock of the manager's retry policies: `close()` fires every pending timer at once, so a
 * call waiting between two attempts (a backoff, a server's pushback, up to 2^31−1 ms) wakes,
 * finds the manager closed and ends with CANCELLED instead of holding the process open until
 * its delay runs out. Retries take the policy's fast path with no signal; this costs them
 * nothing while no call is waiting. @internal
 */
export class WakeOnCloseClock implements Clock {
  readonly #clock: Clock;
  readonly #pending = new Map<TimerHandle, () => void>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  setTimeout(fn: () => void, ms: number, unref?: boolean): TimerHandle {
    const handle: TimerHandle = this.#clock.setTimeout(
      () => {
        this.#pending.delete(handle);
        fn();
      },
      ms,
      unref,
    );
    this.#pending.set(handle, fn);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#pending.delete(handle);
    this.#clock.clearTimeout(handle);
  }

  /** Fires every pending timer now (once); timers set afterwards run as usual. */
  wakeAll(): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [handle, fn] of pending) {
      this.#clock.clearTimeout(handle);
      fn();
    }
  }
}
