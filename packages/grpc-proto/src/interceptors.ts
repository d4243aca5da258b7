import type { ServiceAuthManager } from '@clone/service-auth';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import {
  InterceptingCall,
  type Interceptor,
  type InterceptorOptions,
  type Listener,
  Metadata,
  type NextCall,
  type Requester,
  type StatusObject,
  status,
} from '@grpc/grpc-js';
import { CORRELATION_ID_HEADER, currentCallContext, newCorrelationId } from './call-context';
import { isRetryableMethod } from './method-policy';

/**
 * Sets `x-correlation-id` on every call: the id of the current call context (see
 * `withCorrelationId`; a server built with `createServiceServer` puts each inbound call's id
 * there), or a new one. A value the caller set in the call's metadata is kept.
 */
export function correlationIdInterceptor(): Interceptor {
  return (options, nextCall) => new InterceptingCall(nextCall(options), correlationRequester);
}

const correlationRequester: Requester = {
  start(metadata, listener, next) {
    setCorrelation(metadata);
    next(metadata, listener);
  },
};

function setCorrelation(metadata: Metadata): void {
  if (metadata.get(CORRELATION_ID_HEADER).length > 0) return;
  metadata.set(CORRELATION_ID_HEADER, currentCallContext()?.correlationId ?? newCorrelationId());
}

/** Gives every call without a deadline one `deadlineMs` from its start. */
export function deadlineInterceptor(deadlineMs: number): Interceptor {
  if (!(Number.isInteger(deadlineMs) && deadlineMs > 0)) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      `deadlineInterceptor: deadlineMs must be a positive integer, got ${String(deadlineMs)}`,
      undefined,
      { retryable: false, metadata: { field: 'deadlineMs' } },
    );
  }
  return (options, nextCall) => new InterceptingCall(nextCall(withDeadline(options, deadlineMs)));
}

function withDeadline(options: InterceptorOptions, deadlineMs: number): InterceptorOptions {
  return options.deadline === undefined || options.deadline === Number.POSITIVE_INFINITY
    ? { ...options, deadline: Date.now() + deadlineMs }
    : options;
}

/** What {@link clientContextInterceptor} signs calls with: a cached token source. */
export interface TokenSource {
  /** A valid token (cached; signed when needed). */
  get(): string;
  /** Drops the cached token: the next call signs a new one. */
  invalidate(): void;
}

/** Options of {@link clientContextInterceptor}. */
export interface ClientContextOptions {
  /** Deadline for calls without one, in ms; none when omitted. */
  defaultDeadlineMs?: number | undefined;
  /** Sends `authorization: Bearer <token>`; a call answered UNAUTHENTICATED drops the cached token. */
  token?: TokenSource | undefined;
}

/**
 * The interceptor behind every client of this package, doing in one pass (one
 * `InterceptingCall` per call) what {@link correlationIdInterceptor}, {@link deadlineInterceptor}
 * and {@link authInterceptor} do, and telling the surrounding `executeServiceCall` attempt which
 * methods were called (its retry decision follows their `idempotency_level`).
 */
export function clientContextInterceptor(options: ClientContextOptions = {}): Interceptor {
  const deadlineMs = options.defaultDeadlineMs;
  const token = options.token;
  const requester: Requester =
    token === undefined
      ? correlationRequester
      : {
          start(metadata, listener, next) {
            setCorrelation(metadata);
            let value: string;
            try {
              value = token.get();
            } catch (error) {
              listener.onReceiveStatus({
                code: status.UNAUTHENTICATED,
                details: `Could not sign a service token: ${(error as Error).message}`,
                metadata: new Metadata(),
              });
              return;
            }
            metadata.set('authorization', `Bearer ${value}`);
            // A full listener (one-argument methods) is used as is by grpc-js: no wrapper per call.
            next(metadata, {
              onReceiveMetadata: (m: Metadata) => listener.onReceiveMetadata(m),
              onReceiveMessage: (m: unknown) => listener.onReceiveMessage(m),
              onReceiveStatus: (s: StatusObject) => {
                if (s.code === status.UNAUTHENTICATED) token.invalidate();
                listener.onReceiveStatus(s);
              },
            } as Listener);
          },
        };
  return (callOptions: InterceptorOptions, nextCall: NextCall) => {
    const context = currentCallContext();
    const attempt = context?.attempt;
    const inbound = context?.deadline;
    if (inbound !== undefined) {
      const own = callOptions.deadline;
      const ownMs = own === undefined ? Number.POSITIVE_INFINITY : own instanceof Date ? own.getTime() : own;
      if (inbound < ownMs) callOptions.deadline = inbound;
    }
    if (attempt !== undefined) {
      attempt.calls++;
      if (!isRetryableMethod(callOptions.method_definition.path)) attempt.nonIdempotent = true;
      const own = callOptions.deadline;
      const ownMs = own === undefined ? Number.POSITIVE_INFINITY : own instanceof Date ? own.getTime() : own;
      if (attempt.deadline < ownMs) callOptions.deadline = attempt.deadline;
    }
    // grpc-js makes these options per call: setting the deadline in place saves a copy.
    if (
      deadlineMs !== undefined &&
      (callOptions.deadline === undefined || callOptions.deadline === Infinity)
    ) {
      callOptions.deadline = Date.now() + deadlineMs;
    }
    return new InterceptingCall(nextCall(callOptions), requester);
  };
}

/** Options of {@link authInterceptor}. */
export interface AuthInterceptorOptions {
  /** This instance, e.g. `websocket-server-1`. */
  serviceId: string;
  /** This service, e.g. `websocket-server`. */
  serviceName: string;
  /** Permissions the token asks for, e.g. `['asr:read']`. */
  permissions: readonly string[];
  /** The callee, put in the token's `aud` when its server requires an audience. */
  audience?: string | undefined;
}

/**
 * `authorization: Bearer <jwt>` on every call, signed by `auth` (service-auth's interceptor:
 * the token is cached and re-signed before it expires).
 */
export function authInterceptor(auth: ServiceAuthManager, options: AuthInterceptorOptions): Interceptor {
  return auth.createClientInterceptor({
    serviceId: options.serviceId,
    serviceName: options.serviceName,
    permissions: options.permissions,
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  });
}
