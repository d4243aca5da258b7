import { clockOption, durationMs, isUnsafeKey, loggerOption, objectOption } from '@clone/internal';
import type { CircuitBreakerOptions, Clock, Logger } from '@clone/service-errors';
import { z } from 'zod';
import type { RateLimitStore } from './store';
import { tiersSchema } from './tier';

const ROUTE = /^[A-Za-z0-9_.-]{1,64}$/;
const ROUTE_TEXT = "must be 1-64 letters, digits, _ . or -, and not 'default'";

/** Options of a {@link RateLimiter}. */
export const rateLimiterOptionsSchema = z.strictObject({
  /**
   * The tiers every request is checked against, e.g. `[{ limit: 10, windowMs: 1_000 },
   * { limit: 100, windowMs: 10_000 }, { limit: 1_000, windowMs: 60_000 }]`.
   */
  tiers: tiersSchema,
  /**
   * Per-route tiers that replace `tiers` for requests checked with that `route`, each with
   * its own state (e.g. `{ payments: [{ limit: 10, windowMs: 60_000 }] }`).
   */
  routes: z
    .record(
      z
        .string()
        .regex(ROUTE, { error: ROUTE_TEXT })
        .refine((r) => r !== 'default' && !isUnsafeKey(r), {
          error: ROUTE_TEXT,
        }),
      tiersSchema,
    )
    .optional(),
  /** Where tier state lives (default: a `MemoryStore` of this limiter's own). */
  store: objectOption<RateLimitStore>(
    ['consume', 'close'],
    'must be a RateLimitStore ({ consume, close })',
  ).optional(),
  /**
   * What a check answers while a remote store fails or its breaker is open: `'open'` lets
   * requests through, limited by the in-process insurance limiter unless `insurance` is false;
   * `'closed'` refuses them (SERVICE_UNAVAILABLE, 503, with a retry delay). Required with a
   * remote store: there is no safe default for that choice.
   */
  onStoreFailure: z.enum(['open', 'closed']).optional(),
  /**
   * Failing open, check requests against the same tiers in this process (default true), so an
   * outage of the store lifts the shared limit to one per instance rather than to none.
   */
  insurance: z.boolean().default(true),
  /** How long one store call may take before it counts as a failure, in ms (default 500). */
  storeTimeoutMs: durationMs().default(500),
  /**
   * Options of the circuit breaker around a remote store (default: open after 3 consecutive
   * failures, probe again after 5 s, close after 1 successful probe). `timeout` is
   * `storeTimeoutMs`; `clock` and `logger` are the limiter's.
   */
  breaker: z.record(z.string(), z.unknown()).optional(),
  /** Service name put on the errors (as `ServiceError.service`). */
  service: z.string().optional(),
  clock: clockOption<Clock>().optional(),
  logger: loggerOption<Logger>().optional(),
});

/** Options of a {@link RateLimiter}. */
export type RateLimiterOptions = Omit<z.input<typeof rateLimiterOptionsSchema>, 'breaker'> & {
  breaker?: Omit<CircuitBreakerOptions, 'timeout' | 'clock' | 'logger'>;
};

/** What a single check takes besides the key. */
export interface CheckOptions {
  /** A route named in `routes`: check against its tiers instead of the default ones. */
  route?: string | undefined;
  /** How many requests this one counts for (default 1; at most the smallest limit of its tiers). */
  cost?: number | undefined;
}
