import * as grpc from '@grpc/grpc-js';
import { type Context, context, propagation, type Span, SpanKind, trace } from '@opentelemetry/api';
import { endWithStatus } from './grpc-client-interceptor';
import { extractMetadata } from './grpc-metadata-propagation';
import { type InstrumentationOptions, parseInstrumentationOptions } from './instrumentation-options';
import { AttributeKeys as A } from './metric-names';
import { resolveTracer } from './providers';
import { rpcPathParts } from './rpc-path';

/**
 * A grpc-js server interceptor (`interceptors` of `createServiceServer`, or of
 * `new grpc.Server`): a SERVER span per call, a child of the caller's span read from the
 * metadata, ended with the status sent. The handler runs in the span's context, so the calls
 * and events it makes are its children and carry its baggage.
 */
export function tracingServerInterceptor(options?: InstrumentationOptions): grpc.ServerInterceptor {
  const tracer = resolveTracer(parseInstrumentationOptions(options, 'tracingServerInterceptor'));
  // No tracer and no propagator registered (decided once): the call passes through untouched.
  // grpc-js chains interceptors by their interface; its type names the class.
  if (tracer === undefined && propagation.fields().length === 0)
    return (_descriptor, call) => call as grpc.ServerInterceptingCall;
  return (descriptor, call) => {
    const parts = rpcPathParts(descriptor.path);
    let span: Span | undefined;
    let active: Context | undefined;
    // Each step of the handler's input runs in the span's context: the handler is called from
    // one of them (half-close for unary calls), and async work it starts inherits the context.
    const run = (fn: () => void): void => (active === undefined ? fn() : context.with(active, fn));
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const base = context.active();
            const parent = extractMetadata(metadata, base);
            if (tracer !== undefined) {
              span = tracer.startSpan(
                parts.name,
                {
                  kind: SpanKind.SERVER,
                  attributes: {
                    [A.rpcSystem]: 'grpc',
                    [A.rpcService]: parts.service,
                    [A.rpcMethod]: parts.method,
                  },
                },
                parent,
              );
              active = trace.setSpan(parent, span);
            } else if (parent !== base) active = parent; // baggage or a remote parent to carry on
            run(() => nextMetadata(metadata));
          },
          onReceiveMessage(message, nextMessage) {
            run(() => nextMessage(message));
          },
          onReceiveHalfClose(nextHalfClose) {
            run(nextHalfClose);
          },
        });
      },
      sendStatus(status, next) {
        if (span !== undefined) endWithStatus(span, status.code, status.details ?? '');
        span = undefined;
        next(status);
      },
    });
  };
}
