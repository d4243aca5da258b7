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
 * The keys of one policy: each key's TATs sit in `slab` at the offset the Map holds, `width`
 * numbers (one pair per tier, see `gcra.ts`). One typed array per policy rather than an array
 * per key: a check follows no pointer past the Map entry, which took a check on 10 000 keys from
 * about 113 to 86 ns with its clock read (separate processes, alternated), and a state costs its
 * 8 bytes a number, with no object header.
 */
interface PolicyStates {
  readonly width: number;
  /** Key → offset of its state in `slab`, oldest first (what eviction looks at). */
  readonly keys: Map<string, number>;
  slab: Float64Array;
  /** Offsets freed by dropped keys, used again before the slab grows. */
  readonly free: number[];
  /** The first offset never used. */
  top: number;
}

/** States a policy's slab holds at first; it doubles as needed. */
const INITIAL_STATES = 64;

/**
 * Tier state in this process: per policy, a Map from key to the offset of its TATs in the
 * policy's one Float64Array (see {@link PolicyStates}), so a check is one key lookup (the last
 * policy is remembered) and a few integer operations, with no timer at all. Old keys go without
 * one: each new key looks at the two oldest keys of its policy, drops those whose TATs have all
 * passed (they are equivalent to no entry; their slots are reused) and moves live ones to the
 * back; at `maxKeys` (over all policies) the oldest goes anyway. Limits hold per process: for
 * limits shared between instances use `RedisStore`.
 */
export class MemoryStore implements RateLimitStore {
  readonly remote = false;
  readonly maxKeys: number;
  readonly #policies = new Map<TierSet, PolicyStates>();
  /**
   * The policy of the last check and its states: nearly every check of a limiter is on its
   * default policy, so this spares the policy lookup (an object-keyed Map) on the one path.
   */
  #lastPolicy: TierSet | undefined;
  #lastStates: PolicyStates | undefined;
  #size = 0;
  #evicted = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = parseOptions(memoryStoreOptionsSchema, options, 'MemoryStore').maxKeys;
  }

  /** Checks and consumes at once (synchronous: nothing here waits). */
  consume(key: string, policy: TierSet, now: number, cost: number): RateLimitDecision {
    const states = this.#lastPolicy === policy ? this.#lastStates! : this.#statesOf(policy);
    const at = states.keys.get(key);
    if (at !== undefined) return gcraConsume(policy, states.slab, at, now, cost, 'store');
    // A new key starts from zeroes, in a scratch slot: a refused first request changed nothing
    // and needs no entry, so none is made (nor any other key evicted) unless it passes.
    const fresh = freshState(states.width);
    const d = gcraConsume(policy, fresh, 0, now, cost, 'store');
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
    this.#lastPolicy = undefined;
    this.#lastStates = undefined;
    this.#size = 0;
  }

  async close(): Promise<void> {
    this.clear();
  }

  #statesOf(policy: TierSet): PolicyStates {
    let states = this.#policies.get(policy);
    if (states === undefined) {
      const width = policy.params.length >> 1;
      states = { width, keys: new Map(), slab: new Float64Array(width * INITIAL_STATES), free: [], top: 0 };
      this.#policies.set(policy, states);
    }
    this.#lastPolicy = policy;
    this.#lastStates = states;
    return states;
  }

  #insert(states: PolicyStates, key: string, fresh: Float64Array, now: number): void {
    const { keys, width } = states;
    for (let i = 0; i < 2 && keys.size > 0; i++) {
      const [oldest, at] = keys.entries().next().value as [string, number];
      keys.delete(oldest);
      if (stateExpiry(states.slab, at, width) > now) keys.set(oldest, at);
      else this.#drop(states, at);
    }
    if (this.#size >= this.maxKeys) {
      // The oldest of this policy's keys, or of the first policy holding any.
      let from = states;
      if (from.keys.size === 0)
        for (const other of this.#policies.values())
          if (other.keys.size > 0) {
            from = other;
            break;
          }
      const [oldest, at] = from.keys.entries().next().value as [string, number];
      from.keys.delete(oldest);
      this.#drop(from, at);
      this.#evicted++;
    }
    let at = states.free.pop();
    if (at === undefined) {
      at = states.top;
      states.top += width;
      if (states.top > states.slab.length) {
        const grown = new Float64Array(states.slab.length * 2);
        grown.set(states.slab);
        states.slab = grown;
      }
    }
    const slab = states.slab;
    for (let i = 0; i < width; i++) slab[at + i] = fresh[i]!;
    keys.set(key, at);
    this.#size++;
  }

  #drop(states: PolicyStates, at: number): void {
    states.free.push(at);
    this.#size--;
  }
}

/** The scratch state of a new key (see {@link freshState}). */
let FRESH = new Float64Array(8);

/** A zeroed scratch state of `width` numbers; one for every call (they are synchronous). */
function freshState(width: number): Float64Array {
  if (FRESH.length < width) FRESH = new Float64Array(width);
  else FRESH.fill(0, 0, width);
  return FRESH;
}
