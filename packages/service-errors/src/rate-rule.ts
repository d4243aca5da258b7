import type { SlidingWindow } from './sliding-window';
import type { TripRule } from './trip-rule';

/** What a {@link RateRule} counts as a hit: failed calls, or slow calls. */
export type RateOf = 'failure' | 'slow call';

/**
 * Opens the circuit when the rate of failed (or slow) calls in a window reaches `threshold`,
 * once the window holds `minimumCalls`. The failure rate and the slow-call rate are two
 * instances, each over its own window, so either can be configured alone.
 */
export class RateRule implements TripRule {
  readonly #of: RateOf;
  readonly #window: SlidingWindow;
  readonly #threshold: number;
  readonly #minimumCalls: number;

  constructor(of: RateOf, window: SlidingWindow, threshold: number, minimumCalls: number) {
    this.#of = of;
    this.#window = window;
    this.#threshold = threshold;
    this.#minimumCalls = minimumCalls;
  }

  record(failed: boolean, slow: boolean, probe: boolean, now: number): string | undefined {
    // Probes decide on their own; the window holds what CLOSED traffic saw.
    if (probe) return undefined;
    const window = this.#window;
    window.record(this.#of === 'failure' ? failed : slow, now);
    const calls = window.calls(now);
    if (calls < this.#minimumCalls) return undefined;
    const rate = window.hits(now) / calls;
    return rate >= this.#threshold ? `${this.#of} rate ${(rate * 100).toFixed(1)}%` : undefined;
  }

  failures(now: number): number {
    return this.#of === 'failure' ? this.#window.hits(now) : 0;
  }

  calls(now: number): number {
    return this.#window.calls(now);
  }

  changed(closed: boolean): void {
    if (closed) this.#window.clear();
  }

  restore(): void {
    // A snapshot holds consecutive failures only; a window starts empty.
  }
}
