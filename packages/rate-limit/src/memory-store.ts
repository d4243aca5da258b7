import { intAtLeast } from '@clone/internal';
import { parseOptions } from '@clone/service-errors';
import { z } from 'zod';
import type { RateLimitDecision } from './decision';
import { gcraConsume, stateExpiry } from './gcra';
import type { RateLimitStore } from './store';
import type { TierSet } from './tier';

const memoryStoreOptionsSchema = z.strictObject({
  /**
   * Keys held at most (default 100 000). Past it the least recently swept key is dropped even
   * though it is still limited (counted in `stats().evicted`): memory stays bounded whatever
   * the number of clients, at the price of forgetting the oldest of them.
   */
  maxKeys: intAtLeast(1).default(100_000),
});

/** Options of a {@link MemoryStore}. */
export type MemoryStoreOptions = z.input<typeof memoryStoreOptionsSchema>;

/** What {@link MemoryStore.stats} returns. */
export interface MemoryStoreStats {
  keys: number;
  /** Keys dropped while still limited, because `maxKeys` was reached. */
  evicted: number;
}

/**
 * Tier state in this process: per policy, a Map from key to its TATs (one pair per tier, see
 * `gcra.ts`), so a check is two lookups and a few integer operations, with no timer at all. Old
 * keys go without one: each new key looks at the two oldest keys of its policy, drops those whose
 * TATs have all passed (they are equivalent to no entry) and moves live ones to the back; at
 * `maxKeys` (over all policies) the oldest goes anyway. Limits hold per process: for limits
 * shared between instances use `RedisStore`.
 */
export class MemoryStore implements RateLimitStore {
  readonly remote = false;
  readonly maxKeys: number;
  /** Policy → key → TATs: the value is the state itself, one pointer from the lookup. */
  readonly #policies = new Map<TierSet, Map<string, number[]>>();
  #size = 0;
  #evicted = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = parseOptions(memoryStoreOptionsSchema, options, 'MemoryStore').maxKeys;
  }

  /** Checks and consumes at once (synchronous: nothing here waits). */
  consume(key: string, policy: TierSet, now: number, cost: number): RateLimitDecision {
    let states = this.#policies.get(policy);
    if (states === undefined) {
      states = new Map();
      this.#policies.set(policy, states);
    }
    const state = states.get(key);
    if (state !== undefined) return gcraConsume(policy, state, now, cost, 'store');
    const fresh = new Array<number>(policy.tiers.length * 2).fill(0);
    const d = gcraConsume(policy, fresh, now, cost, 'store');
    // A refused first request changed nothing: no entry needed.
    if (d.allowed) this.#insert(states, key, fresh, now);
    return d;
  }

  /** How many keys are held and how many were dropped while live. */
  stats(): MemoryStoreStats {
    return { keys: this.#size, evicted: this.#evicted };
  }

  /** Forgets every key. */
  clear(): void {
    this.#policies.clear();
    this.#size = 0;
  }

  async close(): Promise<void> {
    this.clear();
  }

  #insert(states: Map<string, number[]>, key: string, state: number[], now: number): void {
    for (let i = 0; i < 2 && states.size > 0; i++) {
      const [oldest, old] = states.entries().next().value as [string, number[]];
      states.delete(oldest);
      if (stateExpiry(old) > now) states.set(oldest, old);
      else this.#size--;
    }
    if (this.#size >= this.maxKeys) {
      // The oldest of this policy's keys, or of the first policy holding any.
      let from = states;
      if (from.size === 0) for (const other of this.#policies.values()) if (other.size > 0) from = other;
      const oldest = from.keys().next().value as string;
      from.delete(oldest);
      this.#size--;
      this.#evicted++;
    }
    states.set(key, state);
    this.#size++;
  }
}
