import {
  type Clock,
  type Emitter,
  type ExecuteContext,
  isThenable,
  ServiceError,
  ServiceErrorCode,
} from '@clone/service-errors';
import { type AttemptRecord, currentCallContext, newCorrelationId, runInCallContext } from './call-context';
import type { ServiceCommunicationEvents } from './events';
import { doNotRetry, type ServicePolicies } from './service-policies';

/** Options of one `executeServiceCall`. */
export interface ServiceCallOptions {
  /** Cancels the call, its pending retries included; it rejects with CANCELLED (or the reason). */
  signal?: AbortSignal | undefined;
  /**
   * Whether the call may be repeated. Default: decided by the protos of the gRPC methods `fn`
   * calls through this package's clients (all NO_SIDE_EFFECTS / IDEMPOTENT: retried; any other:
   * not), and retried by error alone when `fn` makes no such call.
   */
  idempotent?: boolean | undefined;
  /** The correlation id of this call; default the current context's, else a new one. */
  correlationId?: string | undefined;
}

/** What the executor needs of its manager. @internal */
export interface ExecutorEnvironment {
  readonly clock: Clock;
  readonly events: Emitter<ServiceCommunicationEvents>;
  readonly createCorrelationId: (() => string) | undefined;
  /** Whether the manager was closed: an attempt that starts afterwards ends with CANCELLED. */
  readonly closed: () => boolean;
}

/**
 * Runs `fn` through the composed policies of `serviceName` (retry → breaker → timeout). Each
 * attempt runs in a call context carrying the correlation id, the inbound deadline and an
 * attempt record: the clients' interceptor gives every gRPC call the attempt's deadline (the
 * Timeout's) and records the methods called, from which the retry decision follows.
 * @internal
 */
export function executeCall<T>(
  policies: ServicePolicies,
  serviceName: string,
  fn: (context: ExecuteContext) => PromiseLike<T> | T,
  options: ServiceCallOptions,
  env: ExecutorEnvironment,
): Promise<T> {
  const outer = currentCallContext();
  const correlationId =
    options.correlationId ?? outer?.correlationId ?? newCorrelationId(env.createCorrelationId);
  const inbound = outer?.deadline;
  const idempotent = options.idempotent;
  let attempts = 0;
  // Plain functions and one `.then` rather than async/await: this runs on every call, and each
  // promise costs more while AsyncLocalStorage is tracking them.
  const attempt = (ctx: ExecuteContext): PromiseLike<T> | T => {
    attempts = ctx.attempt;
    // A retry that wakes after close() must not start: the channels are gone.
    if (env.closed()) throw closedError(serviceName);
    const record: AttemptRecord = { calls: 0, nonIdempotent: false, deadline: ctx.deadline };
    const failed = (raw: unknown): never => {
      const error = ServiceError.from(raw, serviceName);
      if (idempotent === false || (idempotent === undefined && record.nonIdempotent)) doNotRetry.add(error);
      throw error;
    };
    return runInCallContext({ correlationId, attempt: record, deadline: inbound }, () => {
      let result: PromiseLike<T> | T;
      try {
        result = fn(ctx);
      } catch (raw) {
        return failed(raw);
      }
      return isThenable(result) ? result.then(undefined, failed) : result;
    });
  };
  const run = policies.policy.execute(attempt, options.signal) as Promise<T>;
  const events = env.events;
  const timed = events.hasListeners('callSucceeded') || events.hasListeners('callFailed');
  if (!timed)
    return run.then(undefined, (raw: unknown) => Promise.reject(finalError(raw, serviceName, policies)));
  const clock = env.clock;
  const start = clock.now();
  return run.then(
    (value) => {
      events.emit('callSucceeded', { service: serviceName, durationMs: clock.now() - start, attempts });
      return value;
    },
    (raw: unknown) => {
      const error = finalError(raw, serviceName, policies);
      events.emit('callFailed', {
        service: serviceName,
        durationMs: clock.now() - start,
        attempts: Math.max(attempts, 1),
        error,
      });
      throw error;
    },
  );
}

/** The error a call ends with: a ServiceError naming the service, a timeout saying whose. */
function finalError(raw: unknown, serviceName: string, policies: ServicePolicies): ServiceError {
  const error = ServiceError.from(raw, serviceName);
  const timeout = policies.timeout;
  if (timeout === undefined || error.code !== ServiceErrorCode.TIMEOUT) return error;
  const own = policies.timeoutErrors;
  const origin = own.has(error)
    ? error
    : own.has(error.cause as object)
      ? (error.cause as ServiceError)
      : undefined;
  if (origin === undefined) return error;
  return new ServiceError(
    ServiceErrorCode.TIMEOUT,
    error.message.replace(origin.message, `Call to ${serviceName} timed out after ${timeout.timeoutMs} ms`),
    serviceName,
    {
      retryable: error.retryable,
      metadata: error.metadata,
      cause: error,
      ...(error.attempts === undefined ? {} : { attempts: error.attempts }),
    },
  );
}

function closedError(serviceName: string): ServiceError {
  return new ServiceError(
    ServiceErrorCode.CANCELLED,
    'The call was cancelled: its ServiceCommunicationManager was closed',
    serviceName,
    { retryable: false },
  );
}
