import type { ServiceError } from '@clone/service-errors';

/**
 * The span of one `executeServiceCall`, as a tracing hook gives it (`@clone/telemetry`'s
 * `traceCommunication`): `run` runs the policies inside the span's context, so each attempt's
 * gRPC calls are its children; `end` closes it with the outcome and the method the call made
 * (the first gRPC method of its attempts, when it made one). By shape: this package does not
 * depend on OpenTelemetry.
 */
export interface CallScope {
  run<T>(fn: () => T): T;
  end(error: ServiceError | undefined, attempts: number, method?: string): void;
}

/** Where a tracing hook writes a call's trace context: the call's own metadata (grpc-js `Metadata`). */
export interface TraceCarrier {
  set(key: string, value: string): void;
}

/** The span of one gRPC call (one attempt), ended with the call's status. */
export interface RpcScope {
  end(code: number, details: string): void;
}

/**
 * The tracing hook of a `ServiceCommunicationManager` (`useCallTelemetry`): `startCall` is asked
 * once per `executeServiceCall`, `startRpc` (when the hook has it) once per gRPC call made
 * through the manager's clients, from the one interceptor every such call already runs, with
 * the call's full method path and its metadata to write the trace context into. Either returns
 * `undefined` when not tracing.
 */
export interface CallTelemetry {
  startCall(service: string): CallScope | undefined;
  startRpc?(path: string, metadata: TraceCarrier): RpcScope | undefined;
}
