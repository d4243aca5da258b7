import type { TripRule } from './trip-rule';

/**
 * Opens the circuit after `threshold` failures in a row; a success clears the count. Without a
 * window (`countSlowAsFailure`), a slow success counts as a failure: the callee is in trouble.
 */
export class ConsecutiveFailures implements TripRule {
  readonly #threshold: number;
  readonly #countSlow: boolean;
  #count = 0;

  constructor(threshold: number, countSlowAsFailure: boolean) {
    this.#threshold = threshold;
    this.#countSlow = countSlowAsFailure;
  }

  record(failed: boolean, slow: boolean, probe: boolean): string | undefined {
    if (probe) {
      // A failed probe reopens the circuit; the count then says why it is open.
      if (failed) this.#count++;
      return undefined;
    }
    if (!failed && !(slow && this.#countSlow)) {
      this.#count = 0;
      return undefined;
    }
    if (++this.#count < this.#threshold) return undefined;
    return failed ? `${this.#count} consecutive failures` : 'slow calls';
  }

  failures(): number {
    return this.#count;
  }

  calls(): number {
    return 0;
  }

  changed(_closed: boolean, open: boolean): void {
    // An OPEN circuit keeps the failures that opened it, so getStats() explains the state.
    if (!open) this.#count = 0;
  }

  /** Restores a snapshot's count. */
  restore(count: number): void {
    this.#count = count;
  }
}
