import { z } from 'zod';

/**
 * An option that must be an object with the given methods (an inbox, a transport, a pg pool):
 * checked by shape, so any implementation fits, and refused with `error` otherwise.
 */
export function objectOption<T>(methods: readonly string[], error: string): z.ZodType<T, T> {
  return z.custom<T>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    { error },
  );
}
