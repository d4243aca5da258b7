import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { TierSet } from './tier';

/**
 * Who decided: the shared store; the in-process insurance limiter while the store is down;
 * nobody (`failed-open`: store down, no insurance, let through); or the outage itself
 * (`failed-closed`: store down and `onStoreFailure: 'closed'`).
 */
export type DecisionSource = 'store' | 'insurance' | 'failed-open' | 'failed-closed';

/**
 * The answer to one check. `tier` is the binding tier: when allowed, the one with the fewest
 * requests left (what `RateLimit` reports); when rejected, the one that asks for the longest
 * wait. A rejected request took nothing from any tier.
 */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Index of the binding tier in `policy.tiers`. */
  readonly tier: number;
  /** Requests the binding tier still allows right now (after this one, when allowed). */
  readonly remaining: number;
  /** Ms until the binding tier is full again. */
  readonly resetMs: number;
  /** Ms to wait before the same request can pass; 0 when allowed. */
  readonly retryAfterMs: number;
  readonly policy: TierSet;
  readonly source: DecisionSource;
}

/** Builds a decision; every store and the limiter's fallbacks make theirs here. */
export function decision(
  allowed: boolean,
  tier: number,
  remaining: number,
  resetMs: number,
  retryAfterMs: number,
  policy: TierSet,
  source: DecisionSource,
): RateLimitDecision {
  return { allowed, tier, remaining, resetMs, retryAfterMs, policy, source };
}

/**
 * The error a rejected decision stands for: `RATE_LIMIT_EXCEEDED` (HTTP 429, gRPC
 * RESOURCE_EXHAUSTED) with `retryAfterMs`, or, when the store was down and the limiter is set to
 * fail closed, `SERVICE_UNAVAILABLE` (503) with `retryAfterMs`: the limiter could not decide,
 * which is not the caller's fault. Metadata names the key, the policy and the tier.
 */
export function rateLimitError(d: RateLimitDecision, key: string, service?: string): ServiceError {
  const tier = d.policy.tiers[d.tier]!;
  const retryAfterMs = Math.max(1, Math.ceil(d.retryAfterMs));
  if (d.source === 'failed-closed') {
    return new ServiceError(
      ServiceErrorCode.SERVICE_UNAVAILABLE,
      'Rate limit store unavailable; refusing requests until it is back',
      service,
      {
        retryable: true,
        retryAfterMs,
        metadata: { key, policy: d.policy.name, reason: 'store-unavailable' },
      },
    );
  }
  return new ServiceError(
    ServiceErrorCode.RATE_LIMIT_EXCEEDED,
    `Rate limit exceeded: ${tier.limit} requests per ${tier.windowMs} ms (${tier.name})`,
    service,
    {
      retryable: true,
      retryAfterMs,
      metadata: { key, policy: d.policy.name, tier: tier.name, limit: tier.limit, windowMs: tier.windowMs },
    },
  );
}
