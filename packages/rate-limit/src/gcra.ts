import { decision, type RateLimitDecision } from './decision';
import type { TierSet } from './tier';

/**
 * GCRA (the generic cell rate algorithm) over every tier of a set, in exact integer arithmetic:
 * the in-process form of what the Redis store's script does. A tier's whole state is its
 * theoretical arrival time (TAT), kept as two numbers in `state` from offset `at`: whole ms at
 * `at + 2i` and the rest in `1/limit` ms at `at + 2i + 1`, so an interval such as 1000/3 ms adds
 * up without rounding (the in-process store keeps every key of a policy in one array). A request
 * passes a tier when `max(TAT, now) + cost × windowMs/limit − now ≤ windowMs`; it passes when it
 * passes every tier, and only then is any TAT moved: a request refused by one tier takes
 * nothing from the others. A zeroed state is a fresh key; a state whose TATs are all ≤ now is
 * equivalent to it, which is what lets stores drop it (see {@link stateExpiry}).
 */
export function gcraConsume(
  policy: TierSet,
  state: Float64Array,
  at: number,
  now: number,
  cost: number,
  source: 'store' | 'insurance',
): RateLimitDecision {
  // The tiers' numbers, four per tier (see `TierSet.params`): one flat array of doubles.
  const p = policy.params;
  const count = p.length >> 2;
  const next = NEXT;
  let allowed = true;
  let best = 0;
  let bestRemaining = Number.POSITIVE_INFINITY;
  let bestReset = 0;
  let bestRetry = -1;
  for (let i = 0; i < count; i++) {
    const limit = p[4 * i]!;
    const window = p[4 * i + 1]!;
    let a = state[at + 2 * i]!;
    let b = state[at + 2 * i + 1]!;
    if (a < now) {
      a = now;
      b = 0;
    }
    let ms = a + cost * p[4 * i + 2]!;
    let rest = b + cost * p[4 * i + 3]!;
    if (rest >= limit) {
      const carry = Math.floor(rest / limit);
      ms += carry;
      rest -= carry * limit;
    }
    next[2 * i] = ms;
    next[2 * i + 1] = rest;
    const ahead = ms - now;
    if (ahead < window || (ahead === window && rest === 0)) {
      if (!allowed) continue;
      const remaining = Math.floor((window * limit - ahead * limit - rest) / window);
      if (remaining < bestRemaining) {
        best = i;
        bestRemaining = remaining;
        bestReset = ahead + (rest > 0 ? 1 : 0);
      }
    } else {
      const retry = ahead - window + (rest > 0 ? 1 : 0);
      if (retry > bestRetry) {
        const used = a - now;
        best = i;
        bestRetry = retry;
        bestRemaining = Math.floor((window * limit - used * limit - b) / window);
        bestReset = used + (b > 0 ? 1 : 0);
      }
      allowed = false;
    }
  }
  if (!allowed) return decision(false, best, bestRemaining, bestReset, bestRetry, policy, source);
  for (let i = 0; i < 2 * count; i++) state[at + i] = next[i]!;
  return decision(true, best, bestRemaining, bestReset, 0, policy, source);
}

/**
 * The TATs a request would leave, before it is known to pass every tier: one scratch array for
 * every call (they are synchronous), grown as needed, so a check allocates nothing for it.
 */
const NEXT: number[] = [];

/**
 * The first ms at which the state of `width` numbers at `at` is equivalent to a fresh key
 * (every TAT has passed).
 */
export function stateExpiry(state: Float64Array, at: number, width: number): number {
  let expiry = 0;
  for (let i = at; i < at + width; i += 2) {
    const end = state[i]! + (state[i + 1]! > 0 ? 1 : 0);
    if (end > expiry) expiry = end;
  }
  return expiry;
}
