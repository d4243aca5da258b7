import * as grpc from '@grpc/grpc-js';
import { type Context, context, propagation, type Span, trace } from '@opentelemetry/api';
import { extractMetadata } from './grpc-metadata-propagation';
import { type InstrumentationOptions, parseInstrumentationOptions } from './instrumentation-options';
import { resolveTracer } from './providers';
import { rpcPathParts } from './rpc-path';
import { endRpcSpan } from './rpc-span';

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
    let span: Span | undefined;
    let active: Context | undefined;
    // grpc-js copies these methods off their objects and calls them unbound: closures over the
    // call's span. The steps that can reach the handler run in the span's context: metadata
    // (streamed requests start it there), each streamed message, and half-close (unary ones).
    const listener: grpc.ServerListener = {
      onReceiveMetadata(metadata, nextMetadata) {
        const base = context.active();
        const parent = extractMetadata(metadata, base);
        if (tracer !== undefined) {
          const path = rpcPathParts(descriptor.path);
          span = tracer.startSpan(path.name, path.serverSpan, parent);
          active = trace.setSpan(parent, span);
        } else if (parent !== base) active = parent; // baggage or a remote parent to carry on
        if (active === undefined) nextMetadata(metadata);
        else context.with(active, nextMetadata, undefined, metadata);
      },
      onReceiveHalfClose(nextHalfClose) {
        if (active === undefined) nextHalfClose();
        else context.with(active, nextHalfClose);
      },
    };
    // A single request message is only stored until half-close: no context needed for it.
    if (descriptor.requestStream)
      listener.onReceiveMessage = (message, nextMessage) => {
        if (active === undefined) nextMessage(message);
        else context.with(active, nextMessage, undefined, message);
      };
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next(listener);
      },
      sendStatus(status, next) {
        if (span !== undefined) endRpcSpan(span, status.code, status.details ?? '');
        span = undefined;
        next(status);
      },
    });
  };
}
