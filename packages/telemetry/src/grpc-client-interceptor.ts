import * as grpc from '@grpc/grpc-js';
import {
  type Attributes,
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
    const parts = rpcPathParts(callOptions.method_definition.path);
    const parent = context.active();
    const attributes: Attributes = {
      [A.rpcSystem]: 'grpc',
      [A.rpcService]: parts.service,
      [A.rpcMethod]: parts.method,
    };
    const span = tracer.startSpan(parts.name, { kind: SpanKind.CLIENT, attributes }, parent);
    const spanContext = trace.setSpan(parent, span);
    // grpc-js copies the requester's methods into an object of its own: closures, not a class.
    return new grpc.InterceptingCall(nextCall(callOptions), {
      start(metadata, _listener, next) {
        injectMetadata(metadata, spanContext);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            endWithStatus(span, status.code, status.details);
            nextStatus(status);
          },
        });
      },
    });
  };
}

/** Ends a gRPC span: status code attribute, ERROR unless OK. @internal */
export function endWithStatus(span: Span, code: number, details: string): void {
  span.setAttribute(A.grpcStatusCode, code);
  if (code === grpc.status.OK) span.setStatus({ code: SpanStatusCode.OK });
  else {
    span.setAttribute(A.errorType, grpc.status[code] ?? String(code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: details });
  }
  span.end();
}
