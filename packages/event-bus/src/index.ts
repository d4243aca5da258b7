export {
  type ContextPropagation,
  type PropagationHeaders,
  TRACE_HEADERS_KEY,
} from './context-propagation';
export { currentCorrelationId, runWithCorrelationId } from './correlation';
export { createEventBus } from './create-event-bus';
export type { DeadLetter, DeadLetterError, DeadLetterReason } from './dead-letter';
export { defineEvent, type EventDefinition, type EventOf } from './define-event';
export type { EventEnvelope } from './event';
export { EventBuilder, type EventBuilderDeps, type EventInput } from './event-builder';
export {
  EventBus,
  type EventBusEvents,
  type EventBusHealth,
  type SubscriptionRequest,
} from './event-bus';
export { type Env, eventBusOptionsFromEnv } from './event-bus-env';
export type { EventBusOptions } from './event-bus-options';
export type { EventHandler } from './event-consumer';
export type { EventBusStats } from './event-stats';
export { type Inbox, MemoryInbox } from './inbox';
export {
  PostgresOutbox,
  type PostgresOutboxEvents,
  type PostgresOutboxOptions,
  type SqlClient,
  type SqlPool,
} from './postgres-outbox';
export type { SubscribeOptions, SubscriptionPriority, SubscriptionSpec } from './subscription';
export type { Delivery, DeliveryHandler, EventTransport, Outcome, TransportEvents } from './transport';
