import { durationMs, intAtLeast } from '@clone/internal';
import { z } from 'zod';

/** The largest `limit` of a tier: keeps every step of the exact integer arithmetic below 2^53. */
export const MAX_TIER_LIMIT = 1_000_000;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_TEXT = 'must be 1-64 letters, digits, _ . or - (it is sent in the RateLimit headers)';

/** One tier's schema: `limit` requests per `windowMs`, with an optional header name. */
export const tierSchema = z.strictObject({
  /** Requests allowed per window, and the largest burst. */
  limit: intAtLeast(1, MAX_TIER_LIMIT),
  /** The window in ms: the tier refills `limit` requests over this long. */
  windowMs: durationMs(),
  /** Names the tier in `RateLimit-Policy`/`RateLimit` (default `<limit>-per-<windowMs>ms`). */
  name: z.string({ error: NAME_TEXT }).regex(NAME, { error: NAME_TEXT }).optional(),
});

/**
 * One tier of a limit: at most `limit` requests at once, refilled evenly over `windowMs`
 * (`{ limit: 10, windowMs: 1_000 }` is 10 requests a second with bursts of up to 10).
 */
export type Tier = z.input<typeof tierSchema>;

/** A non-empty list of tiers, checked and consumed together. */
export const tiersSchema = z.array(tierSchema).min(1, { error: 'must list at least one tier' });

/** A checked tier, with what the arithmetic needs precomputed. */
export interface ResolvedTier {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  /** Whole ms of the emission interval `windowMs / limit`. */
  readonly intervalMs: number;
  /** The rest of it, in `1/limit` ms: interval = intervalMs + intervalRest / limit. */
  readonly intervalRest: number;
}

/**
 * The tiers one request is checked against (the limiter's default, or a route's override),
 * named for the store and the `RateLimit-Policy` header. Built once by the limiter; frozen.
 */
export class TierSet {
  /** `'default'` or the route's name; stores keep each set's state apart by it. */
  readonly name: string;
  readonly tiers: readonly ResolvedTier[];
  /** The `RateLimit-Policy` header value (IETF draft): one item per tier, `"name";q=limit;w=seconds`. */
  readonly policyHeader: string;
  /** The smallest limit: a request costing more could never pass. */
  readonly maxCost: number;
  /**
   * @internal The tiers' numbers as `gcraConsume` reads them, four per tier: `limit`,
   * `windowMs`, `intervalMs`, `intervalRest`. One flat array of doubles is read without a
   * pointer per tier or a field lookup per number: three tiers' arithmetic took about 31 ns
   * with it against 40 ns with an object per tier (measured alone, on a shared 2-core VM).
   * Never written after construction (a typed array cannot be frozen).
   */
  readonly params: Float64Array;

  constructor(name: string, tiers: readonly z.output<typeof tierSchema>[]) {
    this.name = name;
    this.tiers = Object.freeze(
      tiers.map((t) =>
        Object.freeze({
          name: t.name ?? `${t.limit}-per-${t.windowMs}ms`,
          limit: t.limit,
          windowMs: t.windowMs,
          intervalMs: Math.floor(t.windowMs / t.limit),
          intervalRest: t.windowMs % t.limit,
        }),
      ),
    );
    this.policyHeader = this.tiers
      .map((t) => `"${t.name}";q=${t.limit};w=${Math.ceil(t.windowMs / 1000)}`)
      .join(', ');
    this.maxCost = Math.min(...this.tiers.map((t) => t.limit));
    this.params = Float64Array.from(
      this.tiers.flatMap((t) => [t.limit, t.windowMs, t.intervalMs, t.intervalRest]),
    );
    Object.freeze(this);
  }
}
