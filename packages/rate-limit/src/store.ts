import type { RateLimitDecision } from './decision';
import type { TierSet } from './tier';

/**
 * Where tier state lives. One call checks a request against every tier of `policy` for `key`
 * and, only when every tier allows it, consumes `cost` from all of them, atomically with respect
 * to every other call on the same store (other processes included, for a shared store). `now` is
 * the limiter's clock in ms. Implementations: {@link MemoryStore} (this process) and `RedisStore`
 * (`@clone/rate-limit/redis`, shared by every instance); both pass the same contract suite.
 */
export interface RateLimitStore {
  /**
   * Whether the store lives outside this process and can fail: the limiter then guards it with a
   * circuit breaker, a timeout and `onStoreFailure`. An in-process store is called directly.
   */
  readonly remote: boolean;
  /** Checks and consumes; the decision's `source` is `'store'`. Rejects only when the store fails. */
  consume(
    key: string,
    policy: TierSet,
    now: number,
    cost: number,
  ): RateLimitDecision | PromiseLike<RateLimitDecision>;
  /** Releases what the store holds (for a Redis store it does not own: nothing). */
  close(): Promise<void>;
}
