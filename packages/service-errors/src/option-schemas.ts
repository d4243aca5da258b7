import { z } from 'zod';
import type { Clock } from './clock';
import type { Logger } from './logger';

/** A schema for a function-valued option (zod cannot check a signature, only the kind). */
export function functionOption<F extends (...args: any[]) => unknown>(): z.ZodType<F, F> {
  return z.custom<F>((value) => typeof value === 'function', { error: 'must be a function' });
}

/** An injected {@link Clock}: an object with `now`, `setTimeout` and `clearTimeout`. */
export const clockOption: z.ZodType<Clock, Clock> = z.custom<Clock>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Clock).now === 'function' &&
    typeof (value as Clock).setTimeout === 'function' &&
    typeof (value as Clock).clearTimeout === 'function',
  { error: 'must be a Clock ({ now, setTimeout, clearTimeout })' },
);

/** An injected {@link Logger}. */
export const loggerOption: z.ZodType<Logger, Logger> = z.custom<Logger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (k) => typeof (value as Record<string, unknown>)[k] === 'function',
    ),
  { error: 'must be a Logger ({ debug, info, warn, error })' },
);
