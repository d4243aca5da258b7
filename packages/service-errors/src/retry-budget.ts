import { durationMs, numberAtLeast } from '@clone/internal';
import { z } from 'zod';
import { type Clock, systemClock } from './clock';
import { clockOption } from './option-schemas';
import { parseOptions } from './validation';

/** Options of a {@link RetryBudget}; every field is optional. */
export const retryBudgetOptionsSchema = z.strictObject({
  /**
   * Retries allowed per request made, over the window (default 0.2: retries add at most 20%
   * to the load a callee sees, where three attempts per call would triple it in an outage).
   */
  ratio: numberAtLeast(0, 1000).default(0.2),
  /**
   * Retries allowed per second whatever the traffic (default 10), so a client making few
   * requests can still retry the odd failure.
   */
  minRetriesPerSecond: numberAtLeast(0).default(10),
  /** How far back requests and retries count, in ms (default 10 000). */
  windowMs: durationMs(10).default(10_000),
  clock: clockOption.optional(),
});

/** Options of a {@link RetryBudget}. */
export type RetryBudgetOptions = z.input<typeof retryBudgetOptionsSchema>;

/** What a {@link RetryBudget} counted over its current window. */
export interface RetryBudgetStats {
  requests: number;
  retries: number;
  /** Retries that would be granted now. */
  available: number;
}

/** Buckets the window is cut into: requests expire a tenth of a window at a time. */
const BUCKETS = 10;

/**
 * A budget of retries shared by every client of one callee: over the last `windowMs`, retries
 * may be at most `ratio` × requests plus `minRetriesPerSecond` × the window. Each call records
 * a request; each retry must be granted by {@link tryRetry}, and a refused retry ends the call
 * with its last error. During an outage the retries stop at the budget instead of multiplying
 * the load by the attempt count; when calls mostly succeed, the occasional retry is always
 * granted. Give one budget to the RetryPolicy of every client (gRPC and HTTP) of a service.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #bucketMs: number;
  readonly #clock: Clock;
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  #requestSum = 0;
  #retrySum = 0;
  /** Index (time / bucketMs) of the bucket counts go to. */
  #current = Number.NEGATIVE_INFINITY;

  constructor(options: RetryBudgetOptions = {}) {
    const o = parseOptions(retryBudgetOptionsSchema, options, 'RetryBudget');
    this.#ratio = o.ratio;
    this.#floor = (o.minRetriesPerSecond * o.windowMs) / 1000;
    this.#bucketMs = o.windowMs / BUCKETS;
    this.#clock = o.clock ?? systemClock;
  }

  /** Counts one request (a call, not an attempt): it earns `ratio` of a retry. */
  recordRequest(): void {
    this.#advance();
    this.#requests[this.#slot()]! += 1;
    this.#requestSum += 1;
  }

  /** Takes one retry from the budget; false (and nothing taken) when it is spent. */
  tryRetry(): boolean {
    this.#advance();
    if (this.#available() < 1) return false;
    this.#retries[this.#slot()]! += 1;
    this.#retrySum += 1;
    return true;
  }

  /** The counts of the current window. */
  getStats(): RetryBudgetStats {
    this.#advance();
    return {
      requests: this.#requestSum,
      retries: this.#retrySum,
      available: Math.max(0, Math.floor(this.#available())),
    };
  }

  #available(): number {
    return this.#floor + this.#ratio * this.#requestSum - this.#retrySum;
  }

  #slot(): number {
    return slotOf(this.#current);
  }

  /** Empties the buckets that left the window since the last count. */
  #advance(): void {
    const index = Math.floor(this.#clock.now() / this.#bucketMs);
    if (index === this.#current) return;
    if (index < this.#current) return; // a clock stepping back keeps counting in the newest bucket
    const stale = Math.min(BUCKETS, index - this.#current);
    for (let i = 1; i <= stale; i++) {
      const slot = slotOf(index - stale + i);
      this.#requestSum -= this.#requests[slot]!;
      this.#retrySum -= this.#retries[slot]!;
      this.#requests[slot] = 0;
      this.#retries[slot] = 0;
    }
    this.#current = index;
  }
}

function slotOf(index: number): number {
  return ((index % BUCKETS) + BUCKETS) % BUCKETS;
}
