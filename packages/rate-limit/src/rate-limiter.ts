import { isUnsafeKey } from '@clone/internal';
import {
  CircuitBreaker,
  type Clock,
  Emitter,
  isThenable,
  type Listener,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import { decision, type RateLimitDecision, rateLimitError } from './decision';
import { MemoryStore } from './memory-store';
import { type CheckOptions, type RateLimiterOptions, rateLimiterOptionsSchema } from './rate-limiter-options';
import type { RateLimitStore } from './store';
import { TierSet } from './tier';

/** Events of a {@link RateLimiter}. */
export interface RateLimiterEvents {
  /** A request was refused (by its tiers, or because the store is down and the limiter fails closed). */
  rejected: { key: string; decision: RateLimitDecision };
  /** A remote store call failed or was not made (breaker open); `fallback` says what answered. */
  storeError: { key: string; error: ServiceError; fallback: 'insurance' | 'open' | 'closed' };
}

/** How long a refusal while failing closed asks the caller to wait when the breaker gives no time. */
const CLOSED_RETRY_MS = 1_000;

/**
 * Multi-tier rate limits per key (a client id, a service, an IP): every tier of the key's policy
 * is checked and consumed at once in the store (GCRA, exact; see docs/rate-limit.md), and a
 * request refused by one tier takes nothing from the others.
 *
 * - `check(key, { route, cost })` answers a {@link RateLimitDecision} and never rejects for a
 *   store outage (that is `onStoreFailure`'s job); `acquire` rejects a refused request with
 *   its ServiceError (`RATE_LIMIT_EXCEEDED` with `retryAfterMs`).
 * - A remote store (Redis) is called through a {@link CircuitBreaker} with a timeout; while it
 *   fails, `onStoreFailure` decides: `'open'` (through the in-process insurance limiter unless
 *   `insurance: false`) or `'closed'`.
 * - Use it as a policy of `compose()` through `RateLimitPolicy`, over HTTP with
 *   `rateLimitMiddleware`, over gRPC with `rateLimitServerInterceptor` (`@clone/rate-limit/grpc`).
 */
export class RateLimiter {
  /** The default policy (the `tiers` option). */
  readonly defaultPolicy: TierSet;
  readonly #routes: ReadonlyMap<string, TierSet>;
  readonly #store: RateLimitStore;
  readonly #ownsStore: boolean;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #insurance: MemoryStore | undefined;
  readonly #failClosed: boolean;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #service: string | undefined;
  #events: Emitter<RateLimiterEvents> | undefined;

  constructor(options: RateLimiterOptions) {
    checkRouteNames(options);
    const o = parseOptions(rateLimiterOptionsSchema, options, 'RateLimiter');
    this.#clock = o.clock ?? systemClock;
    this.#logger = o.logger ?? noopLogger;
    this.#service = o.service;
    this.defaultPolicy = new TierSet('default', o.tiers);
    this.#routes = new Map(
      Object.entries(o.routes ?? {}).map(([name, tiers]) => [name, new TierSet(name, tiers)]),
    );
    this.#ownsStore = o.store === undefined;
    this.#store = o.store ?? new MemoryStore();
    this.#failClosed = o.onStoreFailure === 'closed';
    if (this.#store.remote) {
      if (o.onStoreFailure === undefined) {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          "RateLimiter: onStoreFailure is required with a remote store: 'open' or 'closed'",
          undefined,
          { retryable: false, metadata: { field: 'onStoreFailure' } },
        );
      }
      this.#breaker = new CircuitBreaker({
        failureThreshold: 3,
        resetTimeoutMs: 5_000,
        successThreshold: 1,
        ...(o.breaker as object),
        timeout: o.storeTimeoutMs,
        clock: this.#clock,
        logger: this.#logger,
        // The breaker logs its opening and closing under this name.
        service: 'rate-limit-store',
      });
      if (!this.#failClosed && o.insurance) this.#insurance = new MemoryStore();
    }
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof RateLimiterEvents>(event: K, listener: Listener<RateLimiterEvents[K]>): Unsubscribe {
    this.#events ??= new Emitter();
    return this.#events.on(event, listener);
  }

  /** The tiers a request on `route` is checked against (the default ones when `route` is undefined). */
  policyFor(route?: string): TierSet {
    if (route === undefined) return this.defaultPolicy;
    const policy = this.#routes.get(route);
    if (policy === undefined) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `RateLimiter: unknown route '${route}'`,
        this.#service,
        {
          retryable: false,
          metadata: { field: 'route', route },
        },
      );
    }
    return policy;
  }

  /**
   * Checks `key` against its tiers and consumes `cost` from all of them when every tier allows
   * it. Resolves with the decision, refused or not; rejects only with BAD_REQUEST (an empty key,
   * an unknown route, a bad cost), never for a store outage.
   */
  check(key: string, options?: CheckOptions): Promise<RateLimitDecision> {
    let policy: TierSet;
    let cost: number;
    try {
      policy = this.policyFor(options?.route);
      cost = checkArguments(key, options?.cost, policy, this.#service);
    } catch (error) {
      return Promise.reject(error);
    }
    const now = this.#clock.now();
    if (this.#breaker === undefined) {
      const d = this.#store.consume(key, policy, now, cost);
      if (isThenable(d)) return Promise.resolve(d).then((settled) => this.#settled(key, settled));
      return Promise.resolve(this.#settled(key, d));
    }
    return this.#remote(key, policy, now, cost);
  }

  /** {@link check}, rejecting a refused request with its ServiceError (see `rateLimitError`). */
  async acquire(key: string, options?: CheckOptions): Promise<RateLimitDecision> {
    const d = await this.check(key, options);
    if (!d.allowed) throw rateLimitError(d, key, this.#service);
    return d;
  }

  /** Closes the store when the limiter made it; a store passed in belongs to the caller. */
  async close(): Promise<void> {
    this.#insurance?.clear();
    if (this.#ownsStore) await this.#store.close();
  }

  #settled(key: string, d: RateLimitDecision): RateLimitDecision {
    if (!d.allowed) this.#rejected(key, d);
    return d;
  }

  /** Through the breaker; a failure (or an open breaker) is answered by `onStoreFailure`. */
  #remote(key: string, policy: TierSet, now: number, cost: number): Promise<RateLimitDecision> {
    const breaker = this.#breaker!;
    // One reaction on the breaker's promise, rather than an async function's extra turn.
    return breaker
      .execute(() => this.#store.consume(key, policy, now, cost))
      .then(
        (d) => this.#settled(key, d),
        (thrown: unknown) =>
          this.#settled(key, this.#fallback(key, policy, now, cost, ServiceError.from(thrown), breaker)),
      );
  }

  #fallback(
    key: string,
    policy: TierSet,
    now: number,
    cost: number,
    error: ServiceError,
    breaker: CircuitBreaker,
  ): RateLimitDecision {
    const fallback = this.#failClosed ? 'closed' : this.#insurance !== undefined ? 'insurance' : 'open';
    if (this.#events?.hasListeners('storeError')) this.#events.emit('storeError', { key, error, fallback });
    if (fallback === 'insurance') {
      const d = this.#insurance!.consume(key, policy, now, cost);
      return { ...d, source: 'insurance' };
    }
    const first = policy.tiers[0]!;
    if (fallback === 'open') return decision(true, 0, first.limit, 0, 0, policy, 'failed-open');
    const next = breaker.getStats().nextAttemptTime;
    const wait = next !== undefined && next > now ? next - now : CLOSED_RETRY_MS;
    return decision(false, 0, 0, 0, wait, policy, 'failed-closed');
  }

  #rejected(key: string, d: RateLimitDecision): void {
    if (this.#events?.hasListeners('rejected')) this.#events.emit('rejected', { key, decision: d });
  }
}

/** The cost to use; throws BAD_REQUEST naming the argument. */
function checkArguments(key: string, cost: number | undefined, policy: TierSet, service?: string): number {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      'RateLimiter: key must be a non-empty string',
      service,
      {
        retryable: false,
        metadata: { field: 'key' },
      },
    );
  }
  if (cost === undefined) return 1;
  if (!Number.isInteger(cost) || cost < 1 || cost > policy.maxCost) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      `RateLimiter: cost must be an integer between 1 and ${policy.maxCost} (the smallest limit of policy '${policy.name}'), got ${String(cost)}`,
      service,
      { retryable: false, metadata: { field: 'cost' } },
    );
  }
  return cost;
}

/** Refuses route names zod would drop or accept silently as object keys (`__proto__`). */
function checkRouteNames(options: unknown): void {
  const routes = (options as { routes?: unknown } | null | undefined)?.routes;
  if (typeof routes !== 'object' || routes === null) return;
  for (const name of Object.keys(routes)) {
    if (isUnsafeKey(name) || name === 'default') {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `RateLimiter: routes key '${name}' is not allowed`,
        undefined,
        {
          retryable: false,
          metadata: { field: 'routes' },
        },
      );
    }
  }
}
