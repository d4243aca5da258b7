import { z } from 'zod';
import { MAX_TIMER_MS } from './duration';

/**
 * The longest duration in whole seconds whose millisecond value still fits a Node.js timer
 * (2 147 483 s, about 24.8 days). Options given in seconds (token lifetimes, clock tolerances)
 * are bounded by it, so the same value turned into milliseconds can never overflow a timer.
 */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/**
 * A duration option in whole seconds, between `min` (default 1) and `max` (default
 * {@link MAX_TIMER_SECONDS}, never more): the seconds counterpart of `durationMs`.
 */
export function durationSeconds(min = 1, max = MAX_TIMER_SECONDS): z.ZodNumber {
  const upper = Math.min(max, MAX_TIMER_SECONDS);
  const text = `must be an integer number of seconds between ${min} and ${upper}${
    upper === MAX_TIMER_SECONDS ? ' (about 24.8 days)' : ''
  }`;
  return z.number({ error: text }).int({ error: text }).min(min, { error: text }).max(upper, { error: text });
}
