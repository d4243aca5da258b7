import type { ServiceError } from '@clone/service-errors';
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import {
  type EventSource,
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import {
  AttributeKeys as A,
  CIRCUIT_STATE_VALUE,
  DURATION_BUCKETS_MS,
  MetricNames as M,
} from './metric-names';
import { resolveMeter } from './providers';

type State = keyof typeof CIRCUIT_STATE_VALUE;

/**
 * The events of a `ServiceCommunicationManager` (`@clone/grpc-proto`) this reads, by shape so
 * this package does not depend on grpc-proto. `method` is used when the payload has it.
 */
export interface CommunicationEvents {
  circuitStateChange: { service: string; from: State; to: State; reason: string };
  circuitRejected: { service: string; error: ServiceError };
  retry: { service: string; attempt: number; delayMs: number; error: ServiceError };
  callSucceeded: { service: string; durationMs: number; attempts: number; method?: string | undefined };
  callFailed: {
    service: string;
    durationMs: number;
    attempts: number;
    error: ServiceError;
    method?: string | undefined;
  };
  healthChanged: { service: string; serviceId: string; previous: string; current: string };
}

/** What {@link instrumentCommunication} needs of a `ServiceCommunicationManager`. */
export interface CommunicationSource extends EventSource<CommunicationEvents> {
  /** The breaker stats of every service called so far, read when the circuit-state gauge is collected. */
  getCircuitStats(): Record<string, { state: State }>;
}

/**
 * Records the metrics of every call a `ServiceCommunicationManager` makes: `rpc.client.duration`
 * per service and method with its gRPC status, circuit state (gauge), transitions and
 * rejections, retries and give-ups, and instance health changes. Returns the function that
 * stops recording. Without a registered SDK (and no `meterProvider`) it subscribes to nothing,
 * so the manager's call path stays as fast as uninstrumented.
 */
export function instrumentCommunication(
  source: CommunicationSource,
  options?: InstrumentationOptions,
): () => void {
  const meter = resolveMeter(parseInstrumentationOptions(options, 'instrumentCommunication'));
  if (meter === undefined) return () => {};
  const m = new CommunicationMetrics(meter);
  const offs = [
    source.on('callSucceeded', (e) => m.succeeded(e)),
    source.on('callFailed', (e) => m.failed(e)),
    source.on('retry', (e) => m.retries.add(1, m.errorAttributes(e.service, e.error, undefined))),
    source.on('circuitRejected', (e) => m.rejections.add(1, m.serviceAttributes(e.service))),
    source.on('circuitStateChange', (e) =>
      m.transitions.add(1, {
        ...m.serviceAttributes(e.service),
        [A.circuitFrom]: e.from,
        [A.circuitTo]: e.to,
      }),
    ),
    source.on('healthChanged', (e) =>
      m.health.add(1, { ...m.serviceAttributes(e.service), [A.healthStatus]: e.current }),
    ),
  ];
  const gauge = meter.createObservableGauge(M.circuitState, {
    description: 'Circuit state per callee: 0 CLOSED, 1 HALF_OPEN, 2 OPEN',
  });
  const observe = (result: { observe(value: number, attributes: Attributes): void }): void => {
    for (const [service, stats] of Object.entries(source.getCircuitStats()))
      result.observe(CIRCUIT_STATE_VALUE[stats.state], m.serviceAttributes(service));
  };
  gauge.addCallback(observe);
  offs.push(() => gauge.removeCallback(observe));
  return unsubscribeAll(offs);
}

/** The instruments and cached attribute sets of one instrumented manager. */
class CommunicationMetrics {
  readonly duration: Histogram;
  readonly retries: Counter;
  readonly giveUps: Counter;
  readonly rejections: Counter;
  readonly transitions: Counter;
  readonly health: Counter;
  // Attribute sets are reused per service, method and outcome: a call records without allocating.
  readonly #attributes = new Map<string, Attributes>();
  /** The attribute sets of successful calls, by service, then method ('' for none). */
  readonly #ok = new Map<string, Map<string, Attributes>>();

  constructor(meter: Meter) {
    this.duration = meter.createHistogram(M.rpcClientDuration, {
      unit: 'ms',
      description: 'Duration of outbound RPCs through the resilience policies, retries included',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
    });
    this.retries = meter.createCounter(M.retryAttempts, { description: 'Retries scheduled' });
    this.giveUps = meter.createCounter(M.retryGiveUps, { description: 'Calls that failed after retrying' });
    this.rejections = meter.createCounter(M.circuitRejections, {
      description: 'Calls refused by an open circuit',
    });
    this.transitions = meter.createCounter(M.circuitTransitions, { description: 'Circuit state changes' });
    this.health = meter.createCounter(M.discoveryHealthChanges, { description: 'Instance health changes' });
  }

  succeeded(e: CommunicationEvents['callSucceeded']): void {
    // The common case, looked up by service and method without building a key.
    let methods = this.#ok.get(e.service);
    if (methods === undefined) {
      methods = new Map();
      this.#ok.set(e.service, methods);
    }
    const method = e.method ?? '';
    let attributes = methods.get(method);
    if (attributes === undefined) {
      attributes = this.#get(e.service, e.method, 0, undefined);
      methods.set(method, attributes);
    }
    this.duration.record(e.durationMs, attributes);
  }

  failed(e: CommunicationEvents['callFailed']): void {
    const attributes = this.errorAttributes(e.service, e.error, e.method);
    this.duration.record(e.durationMs, attributes);
    if (e.attempts > 1) this.giveUps.add(1, attributes);
  }

  serviceAttributes(service: string): Attributes {
    return this.#get(service, undefined, undefined, undefined);
  }

  errorAttributes(service: string, error: ServiceError, method: string | undefined): Attributes {
    return this.#get(service, method, error.grpcStatus, error.code);
  }

  #get(
    service: string,
    method: string | undefined,
    status: number | undefined,
    code: string | undefined,
  ): Attributes {
    const key = `${service}\0${method ?? ''}\0${status ?? ''}\0${code ?? ''}`;
    let attributes = this.#attributes.get(key);
    if (attributes === undefined) {
      attributes = { [A.rpcSystem]: 'grpc', [A.rpcService]: service };
      if (method !== undefined) attributes[A.rpcMethod] = method;
      if (status !== undefined) attributes[A.grpcStatusCode] = status;
      if (code !== undefined) attributes[A.errorType] = code;
      this.#attributes.set(key, attributes);
    }
    return attributes;
  }
}
