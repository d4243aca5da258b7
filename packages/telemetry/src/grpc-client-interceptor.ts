import * as grpc from '@grpc/grpc-js';
import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { injectMetadata } from './grpc-metadata-propagation';
import { type InstrumentationOptions, parseInstrumentationOptions } from './instrumentation-options';
import { AttributeKeys as A } from './metric-names';
import { resolveTracer } from './providers';
import { rpcPathParts } from './rpc-path';
import { OK_STATUS } from './span-status';

/**
 * A grpc-js client interceptor: a CLIENT span per gRPC call, a child of the active context
 * (under `executeServiceCall`, the call's span: so each retry attempt is a span of its own),
 * with `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`, and the W3C trace
 * context and baggage written into the call's metadata. Pass it as a client interceptor
 * (`client.interceptors` of the manager's config). Decided once, at creation: without a tracer it
 * only propagates (baggage), and with no propagator either it adds nothing to the call.
 */
export function tracingClientInterceptor(options?: InstrumentationOptions): grpc.Interceptor {
  const tracer = resolveTracer(parseInstrumentationOptions(options, 'tracingClientInterceptor'));
  if (tracer === undefined) {
    // Nothing registered at all: not even a layer, so an uninstrumented call costs the same.
    // grpc-js chains interceptors by their interface; its type names the class.
    if (propagation.fields().length === 0)
      return (callOptions, nextCall) => nextCall(callOptions) as grpc.InterceptingCall;
    return (callOptions, nextCall) =>
      new grpc.InterceptingCall(nextCall(callOptions), {
        start(metadata, listener, next) {
          injectMetadata(metadata);
          next(metadata, listener);
        },
      });
  }
  return (callOptions, nextCall) => {
    const path = rpcPathParts(callOptions.method_definition.path);
    const parent = context.active();
    const span = tracer.startSpan(path.name, { kind: SpanKind.CLIENT, attributes: path.attributes }, parent);
    return new grpc.InterceptingCall(nextCall(callOptions), new TracedAttempt(span, parent));
  };
}

/**
 * One traced gRPC call's requester and listener in one object (one allocation per call): it
 * writes the span's context into the metadata on start and ends the span with the status.
 * Its listener methods take one argument, so grpc-js uses it as is instead of wrapping it in
 * listeners of its own.
 */
class TracedAttempt implements grpc.Requester, grpc.InterceptingListener {
  readonly #span: Span;
  readonly #parent: Context;
  #listener: grpc.InterceptingListener | undefined;

  constructor(span: Span, parent: Context) {
    this.#span = span;
    this.#parent = parent;
  }

  /** grpc-js copies a requester's `start` off the object and calls it unbound: a bound method. */
  readonly start: NonNullable<grpc.Requester['start']> = this.#start.bind(this);

  #start(
    metadata: grpc.Metadata,
    listener: grpc.InterceptingListener,
    next: (metadata: grpc.Metadata, listener: grpc.Listener) => void,
  ): void {
    // Written in place: under the manager, its context interceptor already made this call's copy.
    injectMetadata(metadata, trace.setSpan(this.#parent, this.#span));
    this.#listener = listener;
    next(metadata, this as grpc.Listener);
  }

  onReceiveMetadata(metadata: grpc.Metadata): void {
    this.#listener!.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.#listener!.onReceiveMessage(message);
  }

  onReceiveStatus(status: grpc.StatusObject): void {
    endWithStatus(this.#span, status.code, status.details);
    this.#listener!.onReceiveStatus(status);
  }
}

/** Ends a gRPC span: status code attribute, ERROR unless OK. @internal */
export function endWithStatus(span: Span, code: number, details: string): void {
  span.setAttribute(A.grpcStatusCode, code);
  if (code === grpc.status.OK) span.setStatus(OK_STATUS);
  else {
    span.setAttribute(A.errorType, grpc.status[code] ?? String(code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: details });
  }
  span.end();
}
