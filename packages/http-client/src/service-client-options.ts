import {
  clockOption,
  durationMs,
  functionOption,
  intAtLeast,
  loggerOption,
  nonEmptyString,
  objectOption,
} from '@clone/internal';
import type {
  CircuitBreaker,
  Clock,
  Logger,
  RetryBudget,
  RetryBudgetOptions,
  RetryPolicy,
  Timeout,
} from '@clone/service-errors';
import { z } from 'zod';
import { isServiceCredentials, type ServiceCredentials } from './auth-source';
import type { ServiceDiscovery } from './target';

/** Default bound of one attempt, in ms, when `circuitBreaker.timeout` is not given. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default `maxResponseBytes`: 10 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

const headerRecord = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be a header name (RFC 9110 token)' }),
  z
    .string()
    .regex(/^[\t\x20-\x7e\x80-\xff]*$/, { error: 'must be a header value without control characters' }),
);

/** Options of a {@link ServiceClient}: the names of the design documents, plus what sharing needs. */
export const serviceClientOptionsSchema = z.strictObject({
  /** The callee: the name it is discovered by, on errors and in the token's audience. */
  serviceName: nonEmptyString(),
  /**
   * Where instances are found (a `ServiceRegistry`, the HTTP discovery client). Without it and
   * without `baseUrl`, the service name is the host name (`http://<serviceName>`).
   */
  discovery: objectOption<ServiceDiscovery>(
    ['getServiceInstance'],
    'must have getServiceInstance(serviceName)',
  ).optional(),
  /** A fixed address (`http://user-service:3001`, with an optional path prefix), instead of `discovery`. */
  baseUrl: z.string().optional(),
  /**
   * The breaker of the callee. `timeout` bounds each attempt (default 30 000 ms; the callee
   * hears the rest in `x-request-timeout-ms`); `resetTimeout` is how long it stays OPEN.
   */
  circuitBreaker: z
    .strictObject({
      failureThreshold: intAtLeast(1).optional(),
      successThreshold: intAtLeast(1).optional(),
      timeout: durationMs().optional(),
      resetTimeout: durationMs().optional(),
    })
    .optional(),
  /**
   * Retries of a failed request that may be repeated (GET, HEAD, OPTIONS, PUT, DELETE, or any
   * with an Idempotency-Key): `maxRetries` after the first attempt (default 2), backoff from
   * `initialDelay` ms (default 100) up to `maxDelay` ms (default 5 000), with full jitter.
   */
  retryPolicy: z
    .strictObject({
      maxRetries: intAtLeast(0).optional(),
      initialDelay: durationMs(0).optional(),
      maxDelay: durationMs(0).optional(),
    })
    .optional(),
  /**
   * The retry budget: a RetryBudget to share with other clients of the callee, or options of
   * one for this client alone (default: retries at most 20% of requests plus 10 per second).
   */
  retryBudget: z
    .union([
      objectOption<RetryBudget>(['tryRetry', 'recordRequest'], 'must be a RetryBudget'),
      z.custom<RetryBudgetOptions>((v) => typeof v === 'object' && v !== null),
    ])
    .optional(),
  /**
   * Policies shared with other clients of the callee (the gRPC clients of a
   * ServiceCommunicationManager): then `circuitBreaker`, `retryPolicy` and `retryBudget` must
   * be absent, the budget being the retry policy's.
   */
  policies: z
    .strictObject({
      circuitBreaker: objectOption<CircuitBreaker>(['execute', 'getStats', 'on'], 'must be a CircuitBreaker'),
      retry: objectOption<RetryPolicy>(['execute', 'on'], 'must be a RetryPolicy'),
      timeout: objectOption<Timeout>(['execute'], 'must be a Timeout').optional(),
    })
    .optional(),
  /** Credentials: `createServiceAuth(…)` or a token provider; every request carries `Authorization`. */
  auth: z
    .custom<ServiceCredentials>(isServiceCredentials, {
      error: 'must have createAuthHeader(target), or get() and invalidate()',
    })
    .optional(),
  /** This (calling) service's name, sent as `X-Service-Name`. */
  callerName: nonEmptyString().optional(),
  /** Headers sent with every request (a request's own override them). */
  headers: headerRecord.optional(),
  /** Largest response body read, in bytes (default 10 MiB); a larger one fails with INTERNAL_ERROR. */
  maxResponseBytes: intAtLeast(0).default(DEFAULT_MAX_RESPONSE_BYTES),
  /**
   * Give every POST and PATCH without one an `Idempotency-Key` (a random UUID, the same on each
   * attempt), so the server can dedupe and the request may be retried (default false).
   */
  autoIdempotencyKey: z.boolean().default(false),
  /** Connections kept per instance (default unlimited: one per request in flight, kept alive). */
  connections: intAtLeast(1).optional(),
  /** Idle time after which a pooled connection is closed, in ms (default 4 000, under Node servers' 5 000). */
  keepAliveTimeoutMs: durationMs(1).default(4_000),
  /** Correlation id of a request made outside any context (default a random UUID). */
  createCorrelationId: functionOption<() => string>().optional(),
  /** Source of randomness for backoff jitter (default Math.random). */
  random: functionOption<() => number>().optional(),
  clock: clockOption<Clock>().optional(),
  logger: loggerOption<Logger>().optional(),
});

/** Options of a {@link ServiceClient}. */
export type ServiceClientOptions = z.input<typeof serviceClientOptionsSchema>;
/** Options of a {@link ServiceClient} once checked. @internal */
export type ParsedServiceClientOptions = z.output<typeof serviceClientOptionsSchema>;

/** Options of one request. */
export interface RequestOptions {
  /** Headers of this request (over the client's `headers`). Lower-case names are sent as given. */
  headers?: Record<string, string> | undefined;
  /** Query parameters, appended URL-encoded. */
  query?: Record<string, string | number | boolean> | undefined;
  /** Bound of this call, all attempts included, in ms (the earlier of it and the inbound deadline wins). */
  timeoutMs?: number | undefined;
  /** Cancels the call: it rejects with CANCELLED (or the signal's ServiceError reason). */
  signal?: AbortSignal | undefined;
  /** Sent as `Idempotency-Key`: makes a POST or PATCH retryable. */
  idempotencyKey?: string | undefined;
  /** What the body becomes (default `json`). A `stream` is returned unread and not retried once returned. */
  responseType?: 'json' | 'text' | 'buffer' | 'stream' | undefined;
  /** Overrides the client's `maxResponseBytes`. */
  maxResponseBytes?: number | undefined;
}
