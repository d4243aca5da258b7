import type { RateLimitDecision } from './decision';

/** The part of node:http's `ServerResponse` headers are set on. */
export interface HeaderTarget {
  setHeader(name: string, value: string | number): unknown;
}

/**
 * The IETF draft rate limit headers of a decision (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy` lists every tier of the policy as `"name";q=limit;w=windowSeconds`;
 * `RateLimit` reports the binding tier as `"name";r=remaining;t=secondsUntilFull`. A decision
 * made without the store (`failed-open`, `failed-closed`) knows no remaining quota: only the
 * policy is sent.
 */
export function rateLimitHeaders(d: RateLimitDecision): { 'ratelimit-policy': string; ratelimit?: string } {
  if (d.source === 'failed-open' || d.source === 'failed-closed')
    return { 'ratelimit-policy': d.policy.policyHeader };
  const tier = d.policy.tiers[d.tier]!;
  return {
    'ratelimit-policy': d.policy.policyHeader,
    ratelimit: `"${tier.name}";r=${Math.max(0, d.remaining)};t=${Math.ceil(d.resetMs / 1000)}`,
  };
}

/** Sets {@link rateLimitHeaders} on a response. */
export function setRateLimitHeaders(res: HeaderTarget, d: RateLimitDecision): void {
  const headers = rateLimitHeaders(d);
  res.setHeader('ratelimit-policy', headers['ratelimit-policy']);
  if (headers.ratelimit !== undefined) res.setHeader('ratelimit', headers.ratelimit);
}
