import { z } from 'zod';

/**
 * Time as the packages take it injected: the shape of `Clock` from `@clone/service-errors`,
 * repeated here structurally so this package depends on nothing of ours.
 */
export interface ClockLike {
  now(): number;
  setTimeout(fn: () => void, ms: number, unref?: boolean): unknown;
  clearTimeout(handle: unknown): void;
}

/** The shape of `Logger` from `@clone/service-errors`. */
export interface LoggerLike {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** An integer ≥ `min` (default 1), at most `max` when given, with a message that says so. */
export function intAtLeast(min = 1, max?: number): z.ZodNumber {
  const text =
    max !== undefined
      ? `must be an integer between ${min} and ${max}`
      : min === 1
        ? 'must be a positive integer'
        : min === 0
          ? 'must be a non-negative integer'
          : `must be an integer >= ${min}`;
  let schema = z.number({ error: text }).int({ error: text }).min(min, { error: text });
  if (max !== undefined) schema = schema.max(max, { error: text });
  return schema;
}

/** A finite number ≥ `min` (default 0), at most `max` when given, with a message that says so. */
export function numberAtLeast(min = 0, max?: number): z.ZodNumber {
  const text =
    max !== undefined
      ? `must be a number between ${min} and ${max}`
      : min === 0
        ? 'must be a non-negative number'
        : `must be a number >= ${min}`;
  let schema = z.number({ error: text }).min(min, { error: text });
  if (max !== undefined) schema = schema.max(max, { error: text });
  return schema;
}

/** A non-empty string, with a message that says so. */
export function nonEmptyString(): z.ZodString {
  const text = 'must be a non-empty string';
  return z.string({ error: text }).min(1, { error: text });
}

/**
 * A table name our PostgreSQL stores interpolate into SQL: a lower-case identifier only, so it
 * can never carry SQL of its own.
 */
export function sqlTableName(): z.ZodString {
  return z.string().regex(/^[a-z_][a-z0-9_]{0,50}$/, { error: 'must be a lower-case SQL identifier' });
}

/** A function-valued option (zod cannot check a signature, only the kind). */
export function functionOption<F extends (...args: any[]) => unknown>(): z.ZodType<F, F> {
  return z.custom<F>((value) => typeof value === 'function', { error: 'must be a function' });
}

/**
 * An option that must be an object with the given methods (a clock, a logger, an inbox, a pg
 * pool): checked by shape, so any implementation fits, and refused with `error` otherwise.
 */
export function objectOption<T>(methods: readonly string[], error: string): z.ZodType<T, T> {
  return z.custom<T>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { error },
  );
}

/** The one `clock` option: an object with `now`, `setTimeout` and `clearTimeout`. */
export function clockOption<C extends ClockLike = ClockLike>(): z.ZodType<C, C> {
  return objectOption<C>(
    ['now', 'setTimeout', 'clearTimeout'],
    'must be a Clock ({ now, setTimeout, clearTimeout })',
  );
}

/** The one `logger` option: an object with `debug`, `info`, `warn` and `error`. */
export function loggerOption<L extends LoggerLike = LoggerLike>(): z.ZodType<L, L> {
  return objectOption<L>(
    ['debug', 'info', 'warn', 'error'],
    'must be a Logger ({ debug, info, warn, error })',
  );
}

/** The one `random` option: a source of numbers in [0, 1), `Math.random` by default where used. */
export function randomOption(): z.ZodType<() => number, () => number> {
  return functionOption<() => number>();
}
