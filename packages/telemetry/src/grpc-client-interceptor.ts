import * as grpc from '@grpc/grpc-js';
import { type Context, context, propagation, type Span, type Tracer } from '@opentelemetry/api';
import { injectMetadata } from './grpc-metadata-propagation';
import { type InstrumentationOptions, parseInstrumentationOptions } from './instrumentation-options';
import { resolveTracer } from './providers';
import { endRpcSpan, isTracedCarrier, startRpcSpan } from './rpc-span';

/**
 * A grpc-js client interceptor for clients that `traceCommunication` does not already trace
 * (a manager's clients are: its hook makes their spans in the interceptor they already run).
 * A CLIENT span per gRPC call, a child of the active context, with `rpc.system`, `rpc.service`,
 * `rpc.method` and `rpc.grpc.status_code`, and the W3C trace context and baggage written into
 * the call's metadata. A call the manager's hook already traced (an interceptor added to a
 * manager's clients) is passed on as it is, so a call is never traced twice; a context that
 * merely arrived in the metadata (forwarded inbound metadata) is replaced by the span's. Decided
 * once, at creation: without a tracer it only propagates (baggage), and with no propagator
 * either it adds nothing.
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
  return (callOptions, nextCall) =>
    new grpc.InterceptingCall(
      nextCall(callOptions),
      new TracedAttempt(tracer, callOptions.method_definition.path, context.active()),
    );
}

/**
 * One traced gRPC call's requester and listener in one object (one allocation per call): it
 * starts the span and writes its context into the metadata on start, and ends the span with the
 * status. Its listener methods take one argument, so grpc-js uses it as is instead of wrapping
 * it in listeners of its own.
 */
class TracedAttempt implements grpc.Requester, grpc.InterceptingListener {
  readonly #tracer: Tracer;
  readonly #path: string;
  readonly #parent: Context;
  #span: Span | undefined;
  #listener: grpc.InterceptingListener | undefined;

  constructor(tracer: Tracer, path: string, parent: Context) {
    this.#tracer = tracer;
    this.#path = path;
    this.#parent = parent;
  }

  /** grpc-js copies a requester's `start` off the object and calls it unbound: a bound method. */
  readonly start: NonNullable<grpc.Requester['start']> = this.#start.bind(this);

  #start(
    metadata: grpc.Metadata,
    listener: grpc.InterceptingListener,
    next: (metadata: grpc.Metadata, listener: grpc.Listener) => void,
  ): void {
    if (isTracedCarrier(metadata)) {
      next(metadata, listener);
      return;
    }
    // Written in place: under a ClientFactory, its context interceptor already made this call's copy.
    this.#span = startRpcSpan(this.#tracer, this.#path, metadata, this.#parent);
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
    endRpcSpan(this.#span!, status.code, status.details);
    this.#listener!.onReceiveStatus(status);
  }
}
