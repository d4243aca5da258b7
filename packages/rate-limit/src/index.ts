/**
 * Multi-tier rate limits (GCRA, exact) per key, in process or shared on Redis:
 *
 * ```ts
 * const limiter = new RateLimiter({
 *   tiers: [{ limit: 10, windowMs: 1_000 }, { limit: 100, windowMs: 10_000 }, { limit: 1_000, windowMs: 60_000 }],
 *   routes: { payments: [{ limit: 10, windowMs: 60_000 }] },
 *   store: new RedisStore({ client: redis }), // from '@clone/rate-limit/redis'; default: in process
 *   onStoreFailure: 'open',                    // required with Redis: 'open' (insurance limiter) | 'closed'
 * });
 * const d = await limiter.check(clientId, { route: 'payments' }); // d.allowed, d.retryAfterMs, …
 * http.createServer((req, res) => limit(req, res, () => app(req, res)));  // limit = rateLimitMiddleware(limiter, { key, route })
 * ```
 * gRPC: `rateLimitServerInterceptor` from `@clone/rate-limit/grpc`.
 */
export {
  type DecisionSource,
  type RateLimitDecision,
  rateLimitError,
} from './decision';
export { type HeaderTarget, rateLimitHeaders, setRateLimitHeaders } from './http-headers';
export { type RateLimitMiddlewareOptions, rateLimitMiddleware } from './http-middleware';
export { MemoryStore, type MemoryStoreOptions, type MemoryStoreStats } from './memory-store';
export { RateLimitPolicy, type RateLimitPolicyOptions } from './rate-limit-policy';
export { RateLimiter, type RateLimiterEvents } from './rate-limiter';
export { type CheckOptions, type RateLimiterOptions, rateLimiterOptionsSchema } from './rate-limiter-options';
export type { RateLimitStore } from './store';
export { MAX_TIER_LIMIT, type ResolvedTier, type Tier, TierSet, tierSchema } from './tier';
