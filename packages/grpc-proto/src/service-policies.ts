import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type Clock,
  type ComposedPolicy,
  compose,
  type Emitter,
  type Logger,
  RetryBudget,
  type RetryDecision,
  type RetryOptions,
  RetryPolicy,
  ServiceError,
  ServiceErrorCode,
  Timeout,
  type Unsubscribe,
} from '@clone/service-errors';
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRY } from './config';
import type { ServiceCommunicationEvents } from './events';

/** Breaker and retry settings of one service, as configured (merged over the defaults when made). */
export interface ServiceSettings {
  circuitBreaker?: CircuitBreakerOptions | undefined;
  retry?: RetryOptions | undefined;
}

/** The policies of one callee: retry → breaker → timeout, composed once. @internal */
export interface ServicePolicies {
  readonly breaker: CircuitBreaker;
  readonly retry: RetryPolicy;
  /**
   * The retry budget of the service (the `retry.budget` setting, else one of the defaults:
   * retries at most 20% of requests plus 10 a second), inside `retry`: every client of the
   * service, gRPC and HTTP, retries from it, so an outage does not multiply the load.
   */
  readonly budget: RetryBudget;
  /** The breaker's `timeout` as a Timeout: it bounds each attempt and is its gRPC calls' deadline. */
  readonly timeout: Timeout | undefined;
  /** The TIMEOUT errors `timeout` raised, to tell them from a callee's own TIMEOUT. */
  readonly timeoutErrors: WeakSet<object>;
  /** `compose({ retry, circuitBreaker, timeout })`: the one path every call of the service takes. */
  readonly policy: ComposedPolicy;
  /** Stops forwarding the policies' events. */
  close(): void;
}

/** What the policies of every service share. @internal */
export interface PolicyEnvironment {
  clock: Clock;
  /** The clock of the retry policies' waits between attempts (the manager's close() wakes them). */
  retryClock: Clock;
  logger: Logger;
  events: Emitter<ServiceCommunicationEvents>;
}

/**
 * Errors of attempts that must not be repeated: the attempt called a method its proto does not
 * mark idempotent, or the caller said `idempotent: false`. @internal
 */
export const doNotRetry = new WeakSet<object>();

/**
 * The policies of `serviceName`: `DEFAULT_CIRCUIT_BREAKER`/`DEFAULT_RETRY`, overridden by the
 * manager-wide settings, overridden by the service's own. Throws BAD_REQUEST naming the field
 * for a bad setting, so a manager fails at construction rather than on its first call.
 * @internal
 */
export function makeServicePolicies(
  serviceName: string,
  shared: ServiceSettings,
  own: ServiceSettings | undefined,
  env: PolicyEnvironment,
): ServicePolicies {
  const base = { service: serviceName, clock: env.clock, logger: env.logger };
  const { timeout: timeoutMs, ...breakerOptions } = {
    ...DEFAULT_CIRCUIT_BREAKER,
    ...shared.circuitBreaker,
    ...own?.circuitBreaker,
  } as CircuitBreakerOptions;
  // The breaker's timeout is a Timeout inside the breaker (a timed-out attempt counts as a
  // failure), and its deadline is handed to the attempt's gRPC calls: a deadline ends the call
  // on both sides, where a timer alone would abandon it still running.
  const breaker = new CircuitBreaker({ ...breakerOptions, ...base });
  const timeout =
    timeoutMs === undefined ? undefined : new Timeout({ timeoutMs, service: serviceName, clock: env.clock });
  const retryOptions: RetryOptions = { ...DEFAULT_RETRY, ...shared.retry, ...own?.retry };
  const userShouldRetry = retryOptions.shouldRetry;
  // A non-idempotent attempt is never repeated, whatever else the settings say.
  const shouldRetry = (error: ServiceError, decision: RetryDecision): boolean => {
    if (doNotRetry.has(error)) return false;
    if (userShouldRetry === undefined) return decision.retryable;
    try {
      return userShouldRetry(error, decision);
    } catch (thrown) {
      throw new ServiceError(
        ServiceErrorCode.INTERNAL_ERROR,
        `retry.shouldRetry of ${serviceName} threw (see cause)`,
        serviceName,
        { retryable: false, cause: thrown },
      );
    }
  };
  const budget = retryOptions.budget ?? new RetryBudget({ clock: env.clock });
  const retry = new RetryPolicy({ ...retryOptions, shouldRetry, budget, ...base, clock: env.retryClock });
  const { events } = env;
  const offs: Unsubscribe[] = [
    breaker.on('stateChange', (e) => events.emit('circuitStateChange', { service: serviceName, ...e })),
    breaker.on('rejected', (e) => events.emit('circuitRejected', { service: serviceName, error: e.error })),
    retry.on('retry', (e) => events.emit('retry', { service: serviceName, ...e })),
  ];
  const timeoutErrors = new WeakSet<object>();
  if (timeout !== undefined) offs.push(timeout.on('timeout', (e) => timeoutErrors.add(e.error)));
  return {
    breaker,
    retry,
    budget,
    timeout,
    timeoutErrors,
    policy: compose({ retry, circuitBreaker: breaker, timeout }),
    close() {
      for (const off of offs.splice(0)) off();
    },
  };
}
