import { decision, type RateLimitDecision } from './decision';
import type { TierSet } from './tier';

/**
 * GCRA (the generic cell rate algorithm) over every tier of a set, in exact integer arithmetic:
 * the in-process form of what the Redis store's script does. A tier's whole state is its
 * theoretical arrival time (TAT), kept as two numbers in `state`: whole ms at `2i` and the rest in
 * `1/limit` ms at `2i + 1`, so an interval such as 1000/3 ms adds up without rounding. A request
 * passes a tier when `max(TAT, now) + cost × windowMs/limit − now ≤ windowMs`; it passes when it
 * passes every tier, and only then is any TAT moved: a request refused by one tier takes
 * nothing from the others. A zeroed state is a fresh key; a state whose TATs are all ≤ now is
 * equivalent to it, which is what lets stores drop it (see {@link stateExpiry}).
 */
export function gcraConsume(
  policy: TierSet,
  state: number[],
  now: number,
  cost: number,
  source: 'store' | 'insurance',
): RateLimitDecision {
  const tiers = policy.tiers;
  const next = NEXT;
  let allowed = true;
  let best = 0;
  let bestRemaining = Number.POSITIVE_INFINITY;
  let bestReset = 0;
  let bestRetry = -1;
  for (let i = 0; i < tiers.length; i++) {
    const t = tiers[i]!;
    const limit = t.limit;
    const window = t.windowMs;
    let a = state[2 * i]!;
    let b = state[2 * i + 1]!;
    if (a < now) {
      a = now;
      b = 0;
    }
    let ms = a + cost * t.intervalMs;
    let rest = b + cost * t.intervalRest;
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
  for (let i = 0; i < 2 * tiers.length; i++) state[i] = next[i]!;
  return decision(true, best, bestRemaining, bestReset, 0, policy, source);
}

/**
 * The TATs a request would leave, before it is known to pass every tier: one scratch array for
 * every call (they are synchronous), grown as needed, so a check allocates nothing for it.
 */
const NEXT: number[] = [];

/** The first ms at which `state` is equivalent to a fresh key (every TAT has passed). */
export function stateExpiry(state: readonly number[]): number {
  let at = 0;
  for (let i = 0; i < state.length; i += 2) {
    const end = state[i]! + (state[i + 1]! > 0 ? 1 : 0);
    if (end > at) at = end;
  }
  return at;
}
