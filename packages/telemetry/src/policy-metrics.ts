import type { Bulkhead, CircuitBreaker, RetryPolicy } from '@clone/service-errors';
import type { Attributes } from '@opentelemetry/api';
import {
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import { AttributeKeys as A, CIRCUIT_STATE_VALUE, MetricNames as M } from './metric-names';
import { resolveMeter } from './providers';

/**
 * Records a lone `CircuitBreaker`'s state (gauge), transitions and rejections under
 * `rpc.service` = `options.name` (required: a breaker does not know what it guards). Use
 * {@link instrumentCommunication} for a manager's breakers instead. Returns the stop function.
 */
export function instrumentCircuitBreaker(
  breaker: CircuitBreaker,
  options: InstrumentationOptions,
): () => void {
  const parsed = parseInstrumentationOptions(options, 'instrumentCircuitBreaker');
  const meter = resolveMeter(parsed);
  if (meter === undefined) return () => {};
  const base: Attributes = { [A.rpcService]: parsed.name ?? 'default' };
  const transitions = meter.createCounter(M.circuitTransitions, { description: 'Circuit state changes' });
  const rejections = meter.createCounter(M.circuitRejections, {
    description: 'Calls refused by an open circuit',
  });
  const gauge = meter.createObservableGauge(M.circuitState, {
    description: 'Circuit state per callee: 0 CLOSED, 1 HALF_OPEN, 2 OPEN',
  });
  const observe = (result: { observe(value: number, attributes: Attributes): void }): void =>
    result.observe(CIRCUIT_STATE_VALUE[breaker.state], base);
  gauge.addCallback(observe);
  return unsubscribeAll([
    breaker.on('stateChange', (e) =>
      transitions.add(1, { ...base, [A.circuitFrom]: e.from, [A.circuitTo]: e.to }),
    ),
    breaker.on('rejected', () => rejections.add(1, base)),
    () => gauge.removeCallback(observe),
  ]);
}

/**
 * Records a `RetryPolicy`'s retries (by error code) and give-ups (by reason: attempts
 * exhausted, not retryable, budget, deadline) under `rpc.service` = `options.name`.
 */
export function instrumentRetryPolicy(policy: RetryPolicy, options: InstrumentationOptions): () => void {
  const parsed = parseInstrumentationOptions(options, 'instrumentRetryPolicy');
  const meter = resolveMeter(parsed);
  if (meter === undefined) return () => {};
  const service = parsed.name ?? 'default';
  const retries = meter.createCounter(M.retryAttempts, { description: 'Retries scheduled' });
  const giveUps = meter.createCounter(M.retryGiveUps, { description: 'Calls that failed after retrying' });
  return unsubscribeAll([
    policy.on('retry', (e) => retries.add(1, { [A.rpcService]: service, [A.errorType]: e.error.code })),
    policy.on('giveUp', (e) =>
      giveUps.add(1, { [A.rpcService]: service, [A.retryReason]: e.reason, [A.errorType]: e.error.code }),
    ),
  ]);
}

/** Records a `Bulkhead`'s running and queued calls (gauges) and rejections, as `clone.bulkhead` = `options.name`. */
export function instrumentBulkhead(bulkhead: Bulkhead, options: InstrumentationOptions): () => void {
  const parsed = parseInstrumentationOptions(options, 'instrumentBulkhead');
  const meter = resolveMeter(parsed);
  if (meter === undefined) return () => {};
  const base: Attributes = { [A.bulkhead]: parsed.name ?? 'default' };
  const rejections = meter.createCounter(M.bulkheadRejections, {
    description: 'Calls a full bulkhead refused',
  });
  const queued = meter.createObservableGauge(M.bulkheadQueued, { description: 'Calls waiting for a slot' });
  const active = meter.createObservableGauge(M.bulkheadActive, { description: 'Calls running' });
  const observeQueued = (r: { observe(value: number, attributes: Attributes): void }): void =>
    r.observe(bulkhead.getStats().queued, base);
  const observeActive = (r: { observe(value: number, attributes: Attributes): void }): void =>
    r.observe(bulkhead.getStats().active, base);
  queued.addCallback(observeQueued);
  active.addCallback(observeActive);
  return unsubscribeAll([
    bulkhead.on('rejected', () => rejections.add(1, base)),
    () => queued.removeCallback(observeQueued),
    () => active.removeCallback(observeActive),
  ]);
}
