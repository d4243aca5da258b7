import * as grpc from '@grpc/grpc-js';
import {
  type CallContext,
  CORRELATION_ID_HEADER,
  currentCallContext,
  newCorrelationId,
} from './call-context';
import type { ClientContextOptions } from './interceptors';
import { isRetryableMethod } from './method-policy';

type Callback = (error: grpc.ServiceError | null, value?: unknown) => void;
type Method = (this: grpc.Client, ...args: unknown[]) => unknown;

/**
 * Gives every call of `client` what {@link clientContextInterceptor} would (correlation id,
 * default deadline, bearer token, the attempt record of `executeServiceCall`) by wrapping its
 * methods instead of intercepting: grpc-js builds an interceptor chain, listeners and bound
 * functions for every call once a client has an interceptor, which costs more than the call's
 * own work on loopback. Arguments keep grpc-js's shapes (`metadata?`, `options?`, `callback`).
 */
export function decorateCalls(
  client: grpc.Client,
  definition: grpc.ServiceDefinition,
  options: ClientContextOptions,
): void {
  const { defaultDeadlineMs, token } = options;
  const target = client as unknown as Record<string, Method>;

  const metadataFor = (
    given: grpc.Metadata | undefined,
    path: string,
    context: CallContext | undefined,
  ): grpc.Metadata => {
    const attempt = context?.attempt;
    if (attempt !== undefined) {
      attempt.calls++;
      if (!isRetryableMethod(path)) attempt.nonIdempotent = true;
    }
    // The caller's object is not ours to change: it may be reused for other calls.
    const metadata = given === undefined ? new grpc.Metadata() : given.clone();
    if (given === undefined || metadata.get(CORRELATION_ID_HEADER).length === 0) {
      metadata.set(CORRELATION_ID_HEADER, context?.correlationId ?? newCorrelationId());
    }
    if (token !== undefined) metadata.set('authorization', `Bearer ${token.get()}`);
    return metadata;
  };
  // The earliest of the call's own deadline, the attempt's (executeServiceCall) and the default.
  const optionsFor = (
    given: grpc.CallOptions | undefined,
    context: CallContext | undefined,
  ): grpc.CallOptions => {
    const own = given?.deadline;
    let deadline = own === undefined ? Number.POSITIVE_INFINITY : own instanceof Date ? own.getTime() : own;
    const attemptDeadline = context?.attempt?.deadline ?? Number.POSITIVE_INFINITY;
    if (attemptDeadline < deadline) deadline = attemptDeadline;
    const inbound = context?.deadline ?? Number.POSITIVE_INFINITY;
    if (inbound < deadline) deadline = inbound;
    if (defaultDeadlineMs !== undefined && deadline === Number.POSITIVE_INFINITY)
      deadline = Date.now() + defaultDeadlineMs;
    if (deadline === own || deadline === Number.POSITIVE_INFINITY) return given ?? {};
    return given === undefined ? { deadline } : { ...given, deadline };
  };
  // A call refused as UNAUTHENTICATED drops the cached token, so the next one is signed anew.
  const watch =
    token === undefined
      ? (callback: Callback): Callback => callback
      : (callback: Callback): Callback =>
          (error, value) => {
            if (error?.code === grpc.status.UNAUTHENTICATED) token.invalidate();
            callback(error, value);
          };
  const watchStream = <S extends grpc.ClientReadableStream<unknown> | grpc.ClientWritableStream<unknown>>(
    call: S,
  ): S => {
    if (token !== undefined) {
      call.on(
        'status',
        (s: grpc.StatusObject) => s.code === grpc.status.UNAUTHENTICATED && token.invalidate(),
      );
    }
    return call;
  };

  for (const [name, method] of Object.entries(definition)) {
    const base = target[name];
    if (typeof base !== 'function') continue;
    const path = method.path;
    let wrapped: Method;
    if (!method.requestStream && !method.responseStream) {
      wrapped = function (this: grpc.Client, argument, a, b, c) {
        let metadata: grpc.Metadata | undefined;
        let callOptions: grpc.CallOptions | undefined;
        let callback: Callback;
        if (a instanceof grpc.Metadata) {
          metadata = a;
          if (typeof b === 'function') callback = b as Callback;
          else [callOptions, callback] = [b as grpc.CallOptions, c as Callback];
        } else if (typeof a === 'function') callback = a as Callback;
        else [callOptions, callback] = [a as grpc.CallOptions, b as Callback];
        const context = currentCallContext();
        return base.call(
          this,
          argument,
          metadataFor(metadata, path, context),
          optionsFor(callOptions, context),
          watch(callback),
        );
      };
    } else if (method.requestStream && !method.responseStream) {
      wrapped = function (this: grpc.Client, a, b, c) {
        let metadata: grpc.Metadata | undefined;
        let callOptions: grpc.CallOptions | undefined;
        let callback: Callback;
        if (a instanceof grpc.Metadata) {
          metadata = a;
          if (typeof b === 'function') callback = b as Callback;
          else [callOptions, callback] = [b as grpc.CallOptions, c as Callback];
        } else if (typeof a === 'function') callback = a as Callback;
        else [callOptions, callback] = [a as grpc.CallOptions, b as Callback];
        const context = currentCallContext();
        return base.call(
          this,
          metadataFor(metadata, path, context),
          optionsFor(callOptions, context),
          watch(callback),
        );
      };
    } else if (!method.requestStream) {
      wrapped = function (this: grpc.Client, argument, a, b) {
        const metadata = a instanceof grpc.Metadata ? a : undefined;
        const callOptions = (metadata === undefined ? a : b) as grpc.CallOptions | undefined;
        const context = currentCallContext();
        return watchStream(
          base.call(
            this,
            argument,
            metadataFor(metadata, path, context),
            optionsFor(callOptions, context),
          ) as grpc.ClientReadableStream<unknown>,
        );
      };
    } else {
      wrapped = function (this: grpc.Client, a, b) {
        const metadata = a instanceof grpc.Metadata ? a : undefined;
        const callOptions = (metadata === undefined ? a : b) as grpc.CallOptions | undefined;
        const context = currentCallContext();
        return watchStream(
          base.call(
            this,
            metadataFor(metadata, path, context),
            optionsFor(callOptions, context),
          ) as grpc.ClientDuplexStream<unknown, unknown>,
        );
      };
    }
    target[name] = wrapped;
    const alias = (method as { originalName?: string }).originalName;
    if (alias !== undefined && alias !== name && typeof target[alias] === 'function') target[alias] = wrapped;
  }
}
