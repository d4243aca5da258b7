/**
 * How a retry delay is spread. `full` (the default) draws uniformly from [0, ceiling]: it
 * spreads a crowd of clients retrying after the same outage best (AWS architecture blog,
 * "Exponential Backoff And Jitter"). `equal` draws from [ceiling/2, ceiling]; `decorrelated`
 * from [initial, 3 × previous delay], capped; `none` waits exactly the ceiling.
 */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

/** The backoff settings of a RetryPolicy. */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  backoffMultiplier: number;
  jitter: Jitter;
}

/**
 * The exponential ceiling after `attempt` failed attempts (1-based):
 * `min(maxDelayMs, initialDelayMs × backoffMultiplier^(attempt − 1))`.
 */
export function backoffCeiling(attempt: number, o: BackoffOptions): number {
  const exp = o.initialDelayMs * o.backoffMultiplier ** (attempt - 1);
  return Math.min(exp, o.maxDelayMs);
}

/**
 * The delay in whole ms before the next attempt, after `attempt` failed (1-based).
 * `previousDelayMs` feeds decorrelated jitter; `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  previousDelayMs: number,
  o: BackoffOptions,
  random: () => number = Math.random,
): number {
  let delay: number;
  switch (o.jitter) {
    case 'none':
      delay = backoffCeiling(attempt, o);
      break;
    case 'full':
      delay = random() * backoffCeiling(attempt, o);
      break;
    case 'equal': {
      const ceiling = backoffCeiling(attempt, o);
      delay = ceiling / 2 + (random() * ceiling) / 2;
      break;
    }
    case 'decorrelated': {
      const upper = Math.max(o.initialDelayMs, previousDelayMs * 3);
      delay = Math.min(o.maxDelayMs, o.initialDelayMs + random() * (upper - o.initialDelayMs));
      break;
    }
  }
  // Whole milliseconds: timers have no finer grain, and a delay that rounds to 0 skips the timer.
  return Math.round(delay);
}
