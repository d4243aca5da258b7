import { functionOption, intAtLeast, nonEmptyString } from '@clone/internal';
import {
  abortError,
  type ExecuteContext,
  type Operation,
  type Policy,
  parseOptions,
  rootContext,
  ServiceError,
  ServiceErrorCode,
} from '@clone/service-errors';
import { z } from 'zod';
import type { RateLimiter } from './rate-limiter';
import { callUser } from './user-callbacks';

const rateLimitPolicyOptionsSchema = z.strictObject({
  /** The key calls count against: fixed (a downstream service's name) or read per call. */
  key: z.union([nonEmptyString(), functionOption<() => string>()]),
  /** A route of the limiter's `routes`; default tiers when absent. */
  route: z.string().optional(),
  /** What each call counts for (default 1). */
  cost: intAtLeast(1).optional(),
});

/** Options of a {@link RateLimitPolicy} (see `RateLimiter.policy`). */
export type RateLimitPolicyOptions = z.input<typeof rateLimitPolicyOptionsSchema>;

/**
 * A {@link RateLimiter} as a policy: each call first acquires a request from the key's tiers and
 * runs only when they allow it, else rejects with `RATE_LIMIT_EXCEEDED` (`retryAfterMs` set, so a
 * `RetryPolicy` outside waits that long). It goes into `compose()` like any policy; place it
 * outside the circuit breaker, which would otherwise count our own refusals as the callee's
 * failures.
 */
export class RateLimitPolicy implements Policy {
  readonly #limiter: RateLimiter;
  readonly #key: string | (() => string);
  readonly #options: { route?: string; cost?: number };

  constructor(limiter: RateLimiter, options: RateLimitPolicyOptions) {
    const o = parseOptions(rateLimitPolicyOptionsSchema, options, 'RateLimitPolicy');
    if (o.route !== undefined) limiter.policyFor(o.route);
    this.#limiter = limiter;
    this.#key = o.key;
    this.#options = {
      ...(o.route === undefined ? {} : { route: o.route }),
      ...(o.cost === undefined ? {} : { cost: o.cost }),
    };
  }

  /** Runs `fn` once the limiter allows it; rejects with the limiter's error otherwise. */
  execute<T>(fn: Operation<T>, signal?: AbortSignal): Promise<T> {
    return this.run(fn, rootContext(signal));
  }

  /** Runs `fn` in an outer policy's context once the limiter allows it (see `compose`). */
  async run<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    if (context.signal.aborted) throw abortError(context.signal);
    const key = typeof this.#key === 'string' ? this.#key : callUser('RateLimitPolicy: key', this.#key);
    if (key === undefined)
      throw new ServiceError(
        ServiceErrorCode.INTERNAL_ERROR,
        'RateLimitPolicy: key returned undefined',
        undefined,
        { retryable: false },
      );
    await this.#limiter.acquire(key, this.#options);
    if (context.signal.aborted) throw abortError(context.signal);
    return fn(context);
  }
}
