import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  clockOption,
  durationMs,
  functionOption,
  intAtLeast,
  loggerOption,
  numberAtLeast,
  objectOption,
  randomOption,
} from '@clone/internal';
import type { RateLimiter } from '@clone/rate-limit';
import type { UserClaims, UserTokenVerifier } from '@clone/service-auth';
import type { HealthCheck } from '@clone/service-discovery';
import {
  type CircuitBreakerOptions,
  type Clock,
  type Logger,
  noopLogger,
  type RetryBudgetOptions,
  systemClock,
} from '@clone/service-errors';
import { z } from 'zod';
import type { GatewayRoute } from './route-table';
import type { GatewayDiscovery } from './service-upstreams';

/**
 * Something answered by the gateway itself before routing: `handle` serves the paths it owns
 * and returns true, or returns false touching nothing. The registry HTTP API of
 * `@clone/service-discovery` (`createRegistryHttpApi`) is one, so services register through
 * the gateway.
 */
export interface GatewayMount {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

const outlierSchema = z.strictObject({
  /** Consecutive 502/503/504 answers that eject an instance (default 5). */
  consecutiveFailures: intAtLeast(1).default(5),
  /** Consecutive refused or reset connections that eject it (default 1: a closed port is no flake). */
  consecutiveConnectFailures: intAtLeast(1).default(1),
  /** First ejection's length; each further one is longer by as much, up to `maxEjectionMs`. */
  baseEjectionMs: durationMs().default(30_000),
  maxEjectionMs: durationMs().default(300_000),
  /** Most of a service ejected at once, in percent (default 50). */
  maxEjectionPercent: numberAtLeast(0, 100).default(50),
  /** A returning instance's share ramps from 10% to full over this long (default 30 s; 0: at once). */
  slowStartMs: durationMs(0).default(30_000),
});

const retrySchema = z.strictObject({
  /** Attempts of an idempotent request, on different instances when there are (default 3). */
  maxAttempts: intAtLeast(1, 10).default(3),
  /** First backoff ceiling (default 25 ms): a gateway retries on another instance, not later. */
  initialDelayMs: durationMs(0).default(25),
  maxDelayMs: durationMs(0).default(250),
  /** Retries per service at most `ratio` × requests + a floor (the retry budget). */
  budget: z.custom<RetryBudgetOptions>((v) => typeof v === 'object' && v !== null).optional(),
});

const cacheSchema = z.strictObject({
  maxEntries: intAtLeast(1).default(1_000),
  maxEntryBytes: intAtLeast(1).default(256 * 1024),
  maxTotalBytes: intAtLeast(1).default(32 * 1024 * 1024),
  /** How old a kept response may be and still answer while its service is down (default 5 min). */
  maxStaleMs: durationMs().default(300_000),
});

/** @internal The schema of {@link GatewayOptions}. */
export const gatewayOptionsSchema = z.strictObject({
  routes: z
    .array(
      z.custom<GatewayRoute>((v) => typeof v === 'object' && v !== null, { error: 'must be a route object' }),
    )
    .min(1, { error: 'must list at least one route' }),
  discovery: objectOption<GatewayDiscovery>(
    ['watch'],
    'must be a discovery source with watch() (a ServiceRegistry)',
  ),
  /** Verifies user tokens of routes with `auth` on; required when any route has it on. */
  auth: objectOption<UserTokenVerifier>(['verify'], 'must be a UserTokenVerifier ({ verify })').optional(),
  /**
   * The multi-tier limiter every routed request is checked against, keyed by `rateLimitKey`
   * (default: the user's `sub`, else the client address); a route's `rateLimit` names the
   * limiter route whose tiers apply to it instead.
   */
  rateLimits: objectOption<RateLimiter>(
    ['check', 'policyFor'],
    'must be a RateLimiter from @clone/rate-limit',
  ).optional(),
  rateLimitKey: functionOption<(req: IncomingMessage, user: UserClaims | undefined) => string>().optional(),
  /** Active health checks of every instance (default 30 s). */
  healthCheckIntervalMs: durationMs().default(30_000),
  healthCheckTimeoutMs: durationMs().default(5_000),
  /** Failed checks in a row that take a healthy instance out (default 2). */
  unhealthyThreshold: intAtLeast(1).default(2),
  /** Replaces `GET /health` (any 2xx passes). */
  healthCheck: functionOption<HealthCheck>().optional(),
  outlierDetection: outlierSchema.prefault({}),
  retry: retrySchema.prefault({}),
  /** Per-service breaker; checked by the breaker itself. Default: 5 failures in a row, 30 s open. */
  circuitBreaker: z.custom<CircuitBreakerOptions>((v) => typeof v === 'object' && v !== null).optional(),
  /** Stale-if-error copies of GET responses; `false` turns them off. */
  cache: z.union([z.literal(false), cacheSchema.prefault({})]).default(() => cacheSchema.parse({})),
  /** Longest wait for an upstream's response headers, and between two body chunks (default 30 s). */
  upstreamTimeoutMs: durationMs().default(30_000),
  /** Keep-alive connections per instance at most (default 128). */
  connectionsPerInstance: intAtLeast(1, 100_000).default(128),
  /** What routes cut from the path before forwarding, unless a route says otherwise (default `/api/v1`). */
  stripPrefix: z.string().default('/api/v1'),
  /** Where the built-in endpoints live (default `/api/v1`: `/api/v1/health`, `/api/v1/gateway/status`…). */
  basePath: z.string().default('/api/v1'),
  /** Handlers asked first, in order (e.g. the registry HTTP API); they stay the caller's to close. */
  mounts: z
    .array(objectOption<GatewayMount>(['handle'], 'must have handle(req, res) returning a boolean'))
    .default([]),
  /** How long `close()` waits for requests in flight before cutting their connections (default 10 s). */
  drainTimeoutMs: durationMs().default(10_000),
  logger: loggerOption<Logger>().default(noopLogger),
  clock: clockOption<Clock>().default(systemClock),
  random: randomOption().optional(),
  /** Makes request ids (default: random UUIDs). */
  requestId: functionOption<() => string>().optional(),
});

/** Options of {@link createGateway}. */
export type GatewayOptions = z.input<typeof gatewayOptionsSchema>;

/** @internal */
export type ParsedGatewayOptions = z.output<typeof gatewayOptionsSchema>;
