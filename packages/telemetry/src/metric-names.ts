/**
 * The names of every metric @clone records. RPC metrics follow the OpenTelemetry RPC semantic
 * conventions (`rpc.client.duration` in milliseconds with `rpc.system`, `rpc.service`,
 * `rpc.method`, `rpc.grpc.status_code`); the resilience metrics have no convention, and live
 * under `clone.`. Dashboards and alerts match on these, so they are part of the public API.
 */
export const MetricNames = {
  /** Histogram (ms) of `executeServiceCall`s, retries included; its count is the call count. */
  rpcClientDuration: 'rpc.client.duration',
  /** Gauge: 0 CLOSED, 1 HALF_OPEN, 2 OPEN, per `rpc.service`. */
  circuitState: 'clone.circuit.state',
  /** Counter of breaker transitions, by `rpc.service`, `clone.circuit.from`, `clone.circuit.to`. */
  circuitTransitions: 'clone.circuit.transitions',
  /** Counter of calls refused by an open (or saturated half-open) circuit, never sent. */
  circuitRejections: 'clone.circuit.rejections',
  /** Counter of retries scheduled (attempt 2, 3, …), by `rpc.service` and `error.type`. */
  retryAttempts: 'clone.retry.attempts',
  /** Counter of calls that failed for good after at least one retry, or whose retry was refused. */
  retryGiveUps: 'clone.retry.give_ups',
  /** Gauge of calls waiting in a bulkhead queue. */
  bulkheadQueued: 'clone.bulkhead.queued',
  /** Gauge of calls running inside a bulkhead. */
  bulkheadActive: 'clone.bulkhead.active',
  /** Counter of calls a full bulkhead turned away. */
  bulkheadRejections: 'clone.bulkhead.rejections',
  /** Counter of refused tokens and calls, by `clone.auth.reason`. */
  authFailures: 'clone.auth.failures',
  /** Counter of tokens signed. */
  authTokensIssued: 'clone.auth.tokens_issued',
  /** Counter of the registry's health checks of instances, by service and `clone.health.status` (the result). */
  discoveryHealthChecks: 'clone.discovery.health_checks',
  /** Histogram (ms) of the registry's health checks, by service and result. */
  discoveryHealthCheckDuration: 'clone.discovery.health_check.duration',
  /** Counter of registry health transitions of instances, by service and `clone.health.status`. */
  discoveryHealthChanges: 'clone.discovery.health_changes',
  /** Counter of instances registered / deregistered, by service and `clone.discovery.change`. */
  discoveryRegistrations: 'clone.discovery.registrations',
  /** Gauge of registered instances, by service and `clone.health.status` (the registry's checks' view). */
  discoveryInstances: 'clone.discovery.instances',
  /** Counter of health check runs, by `clone.health.check` and `clone.health.status`. */
  healthChecks: 'clone.health.checks',
  /** Histogram (ms) of health check runs. */
  healthCheckDuration: 'clone.health.check.duration',
  /** Gauge: 1 ready, 0 not ready. */
  healthReady: 'clone.health.ready',
  /** Counter of sagas started, by `clone.saga.type`. */
  sagaStarted: 'clone.saga.started',
  /** Counter of sagas ended, by `clone.saga.type` and `clone.saga.outcome` (completed, compensated, failed, cancelled). */
  sagaEnded: 'clone.saga.ended',
  /** Histogram (ms) of finished sagas, by type and outcome. */
  sagaDuration: 'clone.saga.duration',
  /** Histogram (ms) of saga steps, by `clone.saga.step` and `clone.saga.outcome`. */
  sagaStepDuration: 'clone.saga.step.duration',
  /** Counter of step retries. */
  sagaStepRetries: 'clone.saga.step.retries',
  /** Observable counters of an event bus (read from its stats). */
  eventsPublished: 'clone.events.published',
  eventsHandled: 'clone.events.handled',
  eventsFailed: 'clone.events.failed',
  eventsRetried: 'clone.events.retried',
  eventsDeadLettered: 'clone.events.dead_lettered',
  eventsDuplicates: 'clone.events.duplicates',
} as const;

/** Attribute keys used beside the semantic-convention ones. */
export const AttributeKeys = {
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  grpcStatusCode: 'rpc.grpc.status_code',
  errorType: 'error.type',
  circuitFrom: 'clone.circuit.from',
  circuitTo: 'clone.circuit.to',
  retryReason: 'clone.retry.reason',
  bulkhead: 'clone.bulkhead',
  authReason: 'clone.auth.reason',
  caller: 'clone.auth.caller',
  healthCheck: 'clone.health.check',
  healthStatus: 'clone.health.status',
  discoveryChange: 'clone.discovery.change',
  sagaType: 'clone.saga.type',
  sagaStep: 'clone.saga.step',
  sagaOutcome: 'clone.saga.outcome',
  eventBus: 'clone.events.bus',
} as const;

/** The numeric value of each circuit state in {@link MetricNames.circuitState}. */
export const CIRCUIT_STATE_VALUE = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 } as const;

/** Histogram bucket boundaries in ms, fine enough below 100 ms to read a p50/p99 of a local call. */
export const DURATION_BUCKETS_MS = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 35, 50, 75, 100, 150, 250, 400, 600, 1000, 1500, 2500, 5000, 10000,
];
