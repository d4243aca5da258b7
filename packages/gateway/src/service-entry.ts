import {
  CircuitBreaker,
  type ComposedPolicy,
  compose,
  RetryBudget,
  RetryPolicy,
} from '@clone/service-errors';
import type { ParsedGatewayOptions } from './gateway-options';
import type { ServiceUpstreams } from './service-upstreams';

/** One routed service: its instances and the policies every request to it goes through. @internal */
export interface ServiceEntry {
  readonly upstreams: ServiceUpstreams;
  readonly breaker: CircuitBreaker;
  readonly retry: RetryPolicy;
  readonly budget: RetryBudget;
  /** `compose({ retry, circuitBreaker })`: each attempt passes the breaker, retries stay in the budget. */
  readonly policy: ComposedPolicy;
}

/**
 * The policies of one service. The breaker opens after 5 failed attempts in a row and stays
 * open 30 s unless `circuitBreaker` says otherwise. Retries never wait on server pushback
 * (`maxPushbackMs` 0): a gateway holding a client while a service asks for patience only moves
 * the queue; the `Retry-After` goes back to the client instead. @internal
 */
export function makeServiceEntry(
  name: string,
  upstreams: ServiceUpstreams,
  o: ParsedGatewayOptions,
): ServiceEntry {
  const shared = { service: name, clock: o.clock, logger: o.logger };
  const breaker = new CircuitBreaker({
    failureThreshold: 5,
    resetTimeoutMs: 30_000,
    ...o.circuitBreaker,
    ...shared,
  });
  const budget = new RetryBudget({ ...o.retry.budget, clock: o.clock });
  const retry = new RetryPolicy({
    maxAttempts: o.retry.maxAttempts,
    initialDelayMs: o.retry.initialDelayMs,
    maxDelayMs: o.retry.maxDelayMs,
    maxPushbackMs: 0,
    budget,
    ...(o.random === undefined ? {} : { random: o.random }),
    ...shared,
  });
  return { upstreams, breaker, retry, budget, policy: compose({ retry, circuitBreaker: breaker }) };
}
