import type { Tier } from '../src/tier';

/** What the model answers for one request. */
export interface ModelDecision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
}

/**
 * The specification the stores are tested against, written independently of them: GCRA per
 * tier with every time kept as a BigInt in units of 1/limit ms (so `windowMs / limit` is exact),
 * a request allowed only when every tier allows it, and only then consumed from all. Answers
 * the binding tier's remaining (the fewest left, first on ties) when allowed, and the longest
 * wait when refused.
 */
export class ReferenceModel {
  readonly #tiers: readonly Tier[];
  /** key → TAT per tier, scaled by the tier's limit. */
  readonly #tat = new Map<string, bigint[]>();

  constructor(tiers: readonly Tier[]) {
    this.#tiers = tiers;
  }

  consume(key: string, now: number, cost = 1): ModelDecision {
    const tat = this.#tat.get(key) ?? this.#tiers.map(() => 0n);
    const next: bigint[] = [];
    let allowed = true;
    let remaining = Number.POSITIVE_INFINITY;
    let retryAfterMs = 0;
    this.#tiers.forEach((tier, i) => {
      const limit = BigInt(tier.limit);
      const window = BigInt(tier.windowMs);
      const nowScaled = BigInt(now) * limit;
      const base = tat[i]! > nowScaled ? tat[i]! : nowScaled;
      const after = base + BigInt(cost) * window;
      next.push(after);
      if (after - nowScaled <= window * limit) {
        remaining = Math.min(remaining, Number((window * limit - (after - nowScaled)) / window));
      } else {
        allowed = false;
        const excess = after - nowScaled - window * limit;
        retryAfterMs = Math.max(retryAfterMs, Number((excess + limit - 1n) / limit));
      }
    });
    if (!allowed) return { allowed, remaining: -1, retryAfterMs };
    this.#tat.set(key, next);
    return { allowed, remaining, retryAfterMs: 0 };
  }
}
