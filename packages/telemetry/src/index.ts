export { type AuthEvents, instrumentServiceAuth } from './auth-metrics';
export {
  type CallScope,
  type CallTelemetry,
  type TracedCommunicationSource,
  traceCommunication,
} from './call-tracing';
export {
  type CommunicationEvents,
  type CommunicationSource,
  instrumentCommunication,
} from './communication-metrics';
export { instrumentServiceRegistry, type RegistryEvents, type RegistrySource } from './discovery-metrics';
export { type EventBusSource, instrumentEventBus } from './event-bus-metrics';
export {
  type EventPropagationHook,
  type TracedEvent,
  type TracedEventBusSource,
  type TraceEventBusOptions,
  traceEventBus,
} from './event-bus-tracing';
export { extractTraceContext, type HeaderCarrier, injectTraceHeaders } from './header-propagation';
export { type HealthEvents, instrumentHealthMonitor } from './health-metrics';
export type { EventSource, InstrumentationOptions } from './instrumentation-options';
export { AttributeKeys, CIRCUIT_STATE_VALUE, DURATION_BUCKETS_MS, MetricNames } from './metric-names';
export { instrumentBulkhead, instrumentCircuitBreaker, instrumentRetryPolicy } from './policy-metrics';
export { type ProviderOptions, SCOPE_NAME, SCOPE_VERSION } from './providers';
export type { TraceCarrier } from './rpc-span';
export { instrumentSagaOrchestrator, type SagaEvents } from './saga-metrics';
export {
  type SagaStepAttempt,
  type SagaStepContext,
  type SagaTracing,
  type TracedSagaSource,
  traceSagaOrchestrator,
} from './saga-tracing';
export { type FieldsFirstLogger, type TraceLoggerOptions, withTraceContext } from './trace-logger';
export { createTracer, Tracer, type TracerOptions, TracerSpan } from './tracer';
export { type TracedRequest, tracingMiddleware } from './tracing-middleware';
