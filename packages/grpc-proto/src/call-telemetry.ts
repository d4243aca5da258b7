import type { ServiceError } from '@clone/service-errors';

/**
 * The span of one `executeServiceCall`, as a tracing hook gives it (`@clone/telemetry`'s
 * `traceCommunication`): `run` runs the policies inside the span's context, so each attempt's
 * gRPC calls are its children; `end` closes it with the outcome. By shape: this package does
 * not depend on OpenTelemetry.
 */
export interface CallScope {
  run<T>(fn: () => T): T;
  end(error: ServiceError | undefined, attempts: number): void;
}

/**
 * The per-call tracing hook of a `ServiceCommunicationManager` (`useCallTelemetry`):
 * `startCall` is asked once per `executeServiceCall` and returns `undefined` when not tracing.
 */
export interface CallTelemetry {
  startCall(service: string, method?: string): CallScope | undefined;
}
