import { objectOption } from '@clone/internal';
import { parseOptions } from '@clone/service-errors';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { decision, type RateLimitDecision } from './decision';
import { CONSUME_SCRIPT, CONSUME_SCRIPT_SHA } from './redis-script';
import type { RateLimitStore } from './store';
import type { TierSet } from './tier';

/** The part of an ioredis client the store uses (a `Redis` or `Cluster`). */
export type RedisScriptClient = Pick<Redis, 'evalsha' | 'eval'>;

const redisStoreOptionsSchema = z.strictObject({
  /**
   * A connected ioredis client; the store does not own it (`close()` leaves it open). Create it
   * with a small `maxRetriesPerRequest` (or `enableOfflineQueue: false`) so calls fail fast while
   * Redis is down instead of queueing; the limiter's timeout bounds them either way.
   */
  client: objectOption<RedisScriptClient>(['evalsha', 'eval'], 'must be an ioredis client'),
  /**
   * Prefix of every key the store writes (default `rl:`): `<prefix><policy>:<tiers>:<key>`, where
   * `<tiers>` names the policy's numbers (`10/1000,100/10000`), so changing them starts afresh
   * instead of misreading state kept for other tiers.
   */
  prefix: z.string().default('rl:'),
});

/** Options of a {@link RedisStore}. */
export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;

/**
 * Tier state in Redis, shared by every instance that uses the same Redis and prefix: one string
 * per key and policy, every tier checked and consumed by one script in one round trip (EVALSHA; on
 * NOSCRIPT, after a restart or a SCRIPT FLUSH, the script is sent once with EVAL and cached
 * again). Time is the caller's clock (`now`), so keep the instances' clocks in step (NTP): an
 * instance running ahead lets its requests through a little earlier.
 */
export class RedisStore implements RateLimitStore {
  readonly remote = true;
  readonly #client: RedisScriptClient;
  readonly #prefix: string;
  /** Each policy's key prefix and tier arguments, built once. */
  readonly #policies = new WeakMap<TierSet, { prefix: string; args: readonly number[] }>();

  constructor(options: RedisStoreOptions) {
    const o = parseOptions(redisStoreOptionsSchema, options, 'RedisStore');
    this.#client = o.client;
    this.#prefix = o.prefix;
  }

  consume(key: string, policy: TierSet, now: number, cost: number): Promise<RateLimitDecision> {
    const { prefix, args } = this.#compiled(policy);
    const redisKey = prefix + key;
    const toDecision = (reply: unknown): RateLimitDecision => {
      const [allowed, tier, remaining, resetMs, retryAfterMs] = reply as number[];
      return decision(allowed === 1, tier!, remaining!, resetMs!, retryAfterMs!, policy, 'store');
    };
    return this.#client
      .evalsha(CONSUME_SCRIPT_SHA, 1, redisKey, now, cost, ...args)
      .then(toDecision, (error: unknown) => {
        // Not cached (a restarted Redis, SCRIPT FLUSH): send it once; EVAL caches it again.
        if (!String((error as Error | undefined)?.message).startsWith('NOSCRIPT')) throw error;
        return this.#client.eval(CONSUME_SCRIPT, 1, redisKey, now, cost, ...args).then(toDecision);
      });
  }

  /** Leaves the client open: it belongs to the caller. */
  async close(): Promise<void> {}

  #compiled(policy: TierSet): { prefix: string; args: readonly number[] } {
    let compiled = this.#policies.get(policy);
    if (compiled === undefined) {
      const tiers = policy.tiers.map((t) => `${t.limit}/${t.windowMs}`).join(',');
      compiled = {
        prefix: `${this.#prefix}${policy.name}:${tiers}:`,
        args: policy.tiers.flatMap((t) => [t.limit, t.intervalMs, t.intervalRest, t.windowMs]),
      };
      this.#policies.set(policy, compiled);
    }
    return compiled;
  }
}
