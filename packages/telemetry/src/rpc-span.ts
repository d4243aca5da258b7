import {
  type Context,
  context,
  propagation,
  type Span,
  SpanStatusCode,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AttributeKeys as A } from './metric-names';
import { rpcPathParts } from './rpc-path';
import { OK_STATUS } from './span-status';

/** What a call's trace context is written into: gRPC `Metadata`, by shape (no grpc-js here). */
export interface TraceCarrier {
  set(key: string, value: string): void;
}

/** Writes through the carrier's own `set` (grpc-js validates and lower-cases there). */
export const carrierSetter: TextMapSetter<TraceCarrier> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

// The gRPC status codes are fixed by the gRPC protocol; their names are what `error.type` reads.
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/**
 * The carriers a span's context was written into by {@link startRpcSpan}: a
 * `tracingClientInterceptor` further down the same call leaves them alone (one span per call),
 * while a carrier that only arrived with a context (forwarded inbound metadata, baggage) still
 * gets its span. Weak: an entry lives as long as its call's metadata.
 */
const traced = new WeakSet<TraceCarrier>();

/** Whether {@link startRpcSpan} already traced the call this carrier belongs to. */
export function isTracedCarrier(carrier: TraceCarrier): boolean {
  return traced.has(carrier);
}

/**
 * A CLIENT span for one gRPC call of `path`, a child of `parent`, its context written into the
 * call's metadata through the global propagator (W3C `traceparent` and baggage by default).
 */
export function startRpcSpan(
  tracer: Tracer,
  path: string,
  carrier: TraceCarrier,
  parent: Context = context.active(),
): Span {
  const parts = rpcPathParts(path);
  const span = tracer.startSpan(parts.name, parts.clientSpan, parent);
  propagation.inject(trace.setSpan(parent, span), carrier, carrierSetter);
  traced.add(carrier);
  return span;
}

/** Ends a gRPC span with the call's status: `rpc.grpc.status_code`, ERROR (and `error.type`) unless OK. */
export function endRpcSpan(span: Span, code: number, details: string): void {
  span.setAttribute(A.grpcStatusCode, code);
  if (code === 0) span.setStatus(OK_STATUS);
  else {
    span.setAttribute(A.errorType, STATUS_NAMES[code] ?? String(code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: details });
  }
  span.end();
}

/** A gRPC call's span as the manager's hook hands it back: ended with the call's status. */
export class RpcSpan {
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
  }

  end(code: number, details: string): void {
    endRpcSpan(this.#span, code, details);
  }
}
