import { z } from 'zod';

/**
 * The longest delay a Node.js timer holds: 2^31 − 1 ms (about 24.8 days). A longer one fires
 * after 1 ms, so every duration that ends up in a timer is bounded by it when it is parsed.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The message of a duration out of range; names the bound so a user knows what fits. */
export const DURATION_TEXT = (min: number) =>
  `must be an integer number of milliseconds between ${min} and ${MAX_TIMER_MS} (about 24.8 days)`;

/**
 * A duration option in whole milliseconds, between `min` (default 1) and {@link MAX_TIMER_MS}.
 * Every duration option of every package is this schema, so none can overflow a timer.
 */
export function durationMs(min = 1): z.ZodNumber {
  const text = DURATION_TEXT(min);
  return z
    .number({ error: text })
    .int({ error: text })
    .min(min, { error: text })
    .max(MAX_TIMER_MS, { error: text });
}

/** Whether a computed delay (a pushback, a backoff, a remaining budget) can be given to a timer. */
export function fitsTimer(ms: number): boolean {
  return ms >= 0 && ms <= MAX_TIMER_MS;
}
