import {
  type Clock,
  type Emitter,
  type ExecuteContext,
  isThenable,
  ServiceError,
  ServiceErrorCode,
} from '@clone/service-errors';
import { type AttemptRecord, currentCallContext, newCorrelationId, runInCallContext } from './call-context';
import type { CallTelemetry } from './call-telemetry';
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
  /** The tracing hook (`useCallTelemetry`), if one is installed. */
  readonly telemetry: () => CallTelemetry | undefined;
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
  const call = new ServiceCall(serviceName, fn, options, env);
  const scope = env.telemetry()?.startCall(serviceName);
  // Arrows passed inline and methods on a prototype rather than named closures made per call:
  // this runs on every call, and a closure per step is an allocation (and, under a
  // transpiler that keeps function names, a property definition) each time.
  const run = (
    scope === undefined
      ? policies.policy.execute((ctx) => call.attempt(ctx), options.signal)
      : scope.run(() => policies.policy.execute((ctx) => call.attempt(ctx), options.signal))
  ) as Promise<T>;
  const events = env.events;
  const listening = events.hasListeners('callSucceeded') || events.hasListeners('callFailed');
  if (!listening && scope === undefined)
    return run.then(undefined, (raw: unknown) => Promise.reject(finalError(raw, serviceName, policies)));
  // One settlement for the span and the events: the telemetry adds no promise of its own.
  const clock = env.clock;
  const start = listening ? clock.now() : 0;
  return run.then(
    (value) => {
      const method = call.method;
      scope?.end(undefined, call.attempts, method);
      if (listening)
        events.emit('callSucceeded', {
          service: serviceName,
          durationMs: clock.now() - start,
          attempts: call.attempts,
          method,
        });
      return value;
    },
    (raw: unknown) => {
      const error = finalError(raw, serviceName, policies);
      const attempts = Math.max(call.attempts, 1);
      const method = call.method;
      scope?.end(error, attempts, method);
      if (listening)
        events.emit('callFailed', {
          service: serviceName,
          durationMs: clock.now() - start,
          attempts,
          error,
          method,
        });
      throw error;
    },
  );
}

/**
 * One `executeServiceCall`: what its attempts share (correlation id, inbound deadline, whether
 * it may be repeated). Plain methods and one `.then` rather than async/await: each promise
 * costs more while AsyncLocalStorage is tracking them.
 */
class ServiceCall<T> {
  attempts = 0;
  #method: string | undefined;
  /** The record of the latest attempt. */
  #record: AttemptRecord | undefined;
  readonly #serviceName: string;
  readonly #fn: (context: ExecuteContext) => PromiseLike<T> | T;
  readonly #idempotent: boolean | undefined;
  readonly #correlationId: string;
  readonly #inbound: number | undefined;
  readonly #env: ExecutorEnvironment;

  constructor(
    serviceName: string,
    fn: (context: ExecuteContext) => PromiseLike<T> | T,
    options: ServiceCallOptions,
    env: ExecutorEnvironment,
  ) {
    const outer = currentCallContext();
    this.#serviceName = serviceName;
    this.#fn = fn;
    this.#idempotent = options.idempotent;
    this.#correlationId =
      options.correlationId ?? outer?.correlationId ?? newCorrelationId(env.createCorrelationId);
    this.#inbound = outer?.deadline;
    this.#env = env;
  }

  /** The method of the first gRPC call its attempts made through this package's clients. */
  get method(): string | undefined {
    return this.#method ?? this.#record?.method;
  }

  /** Runs one attempt in a call context whose record the clients' interceptor fills in. */
  attempt(ctx: ExecuteContext): PromiseLike<T> | T {
    this.attempts = ctx.attempt;
    this.#method ??= this.#record?.method;
    // A retry that wakes after close() must not start: the channels are gone.
    if (this.#env.closed()) throw closedError(this.#serviceName);
    const record: AttemptRecord = {
      calls: 0,
      nonIdempotent: false,
      deadline: ctx.deadline,
      method: undefined,
    };
    this.#record = record;
    return runInCallContext(
      { correlationId: this.#correlationId, attempt: record, deadline: this.#inbound },
      () => {
        let result: PromiseLike<T> | T;
        try {
          result = this.#fn(ctx);
        } catch (raw) {
          return this.#failed(raw, record);
        }
        return isThenable(result)
          ? result.then(undefined, (raw: unknown) => this.#failed(raw, record))
          : result;
      },
    );
  }

  /** An attempt's error, marked not to be repeated when the attempt did something non-idempotent. */
  #failed(raw: unknown, record: AttemptRecord): never {
    const error = ServiceError.from(raw, this.#serviceName);
    const idempotent = this.#idempotent;
    if (idempotent === false || (idempotent === undefined && record.nonIdempotent)) doNotRetry.add(error);
    throw error;
  }
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
