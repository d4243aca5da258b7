import { objectOption } from '@clone/internal';
import { parseOptions } from '@clone/service-errors';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RateLimitDecision } from './decision';
import { gcraConsume } from './gcra';
import { type ConsumeScript, consumeScript } from './redis-script';
import type { RateLimitStore } from './store';
import type { TierSet } from './tier';

/** The part of an ioredis client the store uses (a `Redis` or `Cluster`). */
export type RedisScriptClient = Pick<Redis, 'callBuffer'>;

const redisStoreOptionsSchema = z.strictObject({
  /**
   * A connected ioredis client; the store does not own it (`close()` leaves it open). Create it
   * with a small `maxRetriesPerRequest` (or `enableOfflineQueue: false`) so calls fail fast while
   * Redis is down instead of queueing; the limiter's timeout bounds them either way.
   */
  client: objectOption<RedisScriptClient>(['callBuffer'], 'must be an ioredis client'),
  /**
   * Prefix of every key the store writes (default `rl:`): `<prefix><policy>:<tiers>:<key>`, where
   * `<tiers>` names the policy's numbers (`10/1000,100/10000`), so changing them starts afresh
   * instead of misreading state kept for other tiers.
   */
  prefix: z.string().default('rl:'),
});

/** Options of a {@link RedisStore}. */
export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;

/** What the store works out once per policy: its key prefix and its script. */
interface CompiledPolicy {
  readonly policy: TierSet;
  readonly prefix: string;
  readonly script: ConsumeScript;
}

/**
 * Tier state in Redis, shared by every instance that uses the same Redis and prefix: one string
 * per key and policy, every tier checked and consumed by one script in one round trip (see
 * `consumeScript`: one per policy, run with EVALSHA; on NOSCRIPT, after a restart or a SCRIPT
 * FLUSH, it is sent once with EVAL and cached again). Time is the caller's clock (`now`), so keep
 * the instances' clocks in step (NTP): an instance running ahead lets its requests through a
 * little earlier.
 */
export class RedisStore implements RateLimitStore {
  readonly remote = true;
  readonly #client: RedisScriptClient;
  readonly #prefix: string;
  readonly #policies = new WeakMap<TierSet, CompiledPolicy>();
  /** The last policy used: nearly every check of a limiter is on its default policy. */
  #last: CompiledPolicy | undefined;

  constructor(options: RedisStoreOptions) {
    const o = parseOptions(redisStoreOptionsSchema, options, 'RedisStore');
    this.#client = o.client;
    this.#prefix = o.prefix;
  }

  consume(key: string, policy: TierSet, now: number, cost: number): Promise<RateLimitDecision> {
    const compiled = this.#last?.policy === policy ? this.#last : this.#compiled(policy);
    const redisKey = compiled.prefix + key;
    // The script answers the state it found; the decision follows from it (see consumeScript).
    // Unnamed arrows only: tsx names a named closure on every call, a microsecond here.
    return this.#call('EVALSHA', compiled.script.sha, redisKey, now, cost).then(
      (state) => gcraConsume(policy, compiled.script.decode(state), 0, now, cost, 'store'),
      (error: unknown) => this.#noScript(error, compiled, redisKey, now, cost),
    );
  }

  /** Leaves the client open: it belongs to the caller. */
  async close(): Promise<void> {}

  /** Not cached (a restarted Redis, SCRIPT FLUSH): sends the script once; EVAL caches it again. */
  #noScript(
    error: unknown,
    compiled: CompiledPolicy,
    redisKey: string,
    now: number,
    cost: number,
  ): Promise<RateLimitDecision> {
    if (!String((error as Error | undefined)?.message).startsWith('NOSCRIPT')) throw error;
    const { policy, script } = compiled;
    return this.#call('EVAL', script.source, redisKey, now, cost).then((state) =>
      gcraConsume(policy, script.decode(state), 0, now, cost, 'store'),
    );
  }

  /** One script call; `cost` is left out when it is 1 (the script's default), one argument less. */
  #call(
    command: 'EVALSHA' | 'EVAL',
    script: string,
    redisKey: string,
    now: number,
    cost: number,
  ): Promise<Buffer | null> {
    const reply =
      cost === 1
        ? this.#client.callBuffer(command, script, 1, redisKey, now)
        : this.#client.callBuffer(command, script, 1, redisKey, now, cost);
    return reply as Promise<Buffer | null>;
  }

  #compiled(policy: TierSet): CompiledPolicy {
    let compiled = this.#policies.get(policy);
    if (compiled === undefined) {
      const tiers = policy.tiers.map((t) => `${t.limit}/${t.windowMs}`).join(',');
      compiled = { policy, prefix: `${this.#prefix}${policy.name}:${tiers}:`, script: consumeScript(policy) };
      this.#policies.set(policy, compiled);
    }
    this.#last = compiled;
    return compiled;
  }
}
