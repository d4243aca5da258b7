import { clockOption, durationMs, functionOption } from '@clone/internal';
import { type Clock, parseOptions, systemClock } from '@clone/service-errors';
import {
  InterceptingCall,
  type InterceptingListener,
  type Interceptor,
  type InterceptorOptions,
  type Listener,
  Metadata,
  type NextCall,
  type Requester,
  type StatusObject,
  status,
} from '@grpc/grpc-js';
import { z } from 'zod';
import { CORRELATION_ID_HEADER, currentCallContext, newCorrelationId } from './call-context';
import type { CallTelemetry, RpcScope } from './call-telemetry';
import { getMethodPolicy, isRetryablePolicy, methodName } from './method-policy';

/** What {@link clientContextInterceptor} signs calls with: a cached token source. */
export interface TokenSource {
  /** A valid token (cached; signed when needed). */
  get(): string;
  /** Drops the cached token: the next call signs a new one. */
  invalidate(): void;
}

/** Options of {@link clientContextInterceptor}. */
export interface ClientContextOptions {
  /** Deadline for calls without one, in ms (1 to 2^31−1, what a timer holds); none when omitted. */
  defaultDeadlineMs?: number | undefined;
  /** Sends `authorization: Bearer <token>`; a call answered UNAUTHENTICATED drops the cached token. */
  token?: TokenSource | undefined;
  /** Where "now" comes from for the default deadline. Default the system clock. */
  clock?: Clock | undefined;
  /** Makes the correlation id of a call made outside any call context. Default a random UUID. */
  createCorrelationId?: (() => string) | undefined;
}

/** A {@link TokenSource}: an object with `get()` and `invalidate()`. @internal */
export const tokenSourceSchema = z.custom<TokenSource>(
  (v) =>
    typeof (v as TokenSource | null)?.get === 'function' &&
    typeof (v as TokenSource).invalidate === 'function',
  { error: 'must be a token source ({ get(), invalidate() })' },
);

const clientContextOptionsSchema = z.strictObject({
  defaultDeadlineMs: durationMs().optional(),
  token: tokenSourceSchema.optional(),
  clock: clockOption<Clock>().optional(),
  createCorrelationId: functionOption<() => string>().optional(),
});

/**
 * The calls in flight on the channels of one `ClientFactory`: `close()` cancels them at once
 * (a closed channel alone lets them run to their deadline) and refuses every later call.
 * @internal
 */
export class InFlightCalls {
  readonly #calls = new Set<InterceptingCall>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  add(call: InterceptingCall): void {
    this.#calls.add(call);
  }

  delete(call: InterceptingCall): void {
    this.#calls.delete(call);
  }

  /** Cancels every call in flight with CANCELLED; later calls end with CANCELLED without starting. */
  close(): void {
    this.#closed = true;
    const calls = [...this.#calls];
    this.#calls.clear();
    for (const call of calls) call.cancelWithStatus(status.CANCELLED, CLOSED_DETAILS);
  }
}

const CLOSED_DETAILS = 'the ClientFactory (or ServiceCommunicationManager) of this client is closed';

/**
 * The one place a client call gets what every call of this package carries: the correlation id
 * of the current context (else a new one; a value the caller set in the call's metadata is
 * kept), the earliest of its own deadline, the inbound call's, the `executeServiceCall`
 * attempt's and the default one, and `authorization: Bearer <token>` (a call answered
 * UNAUTHENTICATED drops the cached token). It also tells the surrounding attempt which methods
 * were called: its retry decision follows their `idempotency_level`.
 *
 * Every client made by `ClientFactory` (and so by the manager) runs it first; add it to a
 * grpc-js client made elsewhere to give it the same behaviour.
 */
export function clientContextInterceptor(options: ClientContextOptions = {}): Interceptor {
  // A bad option fails here, once, rather than on every call (a negative deadline would end
  // each call at once).
  return contextInterceptor(
    parseOptions(clientContextOptionsSchema, options, 'clientContextInterceptor'),
    undefined,
    undefined,
  );
}

/**
 * {@link clientContextInterceptor} with the calls tracked in `inFlight` and traced by the
 * `telemetry` hook installed at the time of each call (the manager's `useCallTelemetry`).
 * @internal
 */
export function contextInterceptor(
  options: ClientContextOptions,
  inFlight: InFlightCalls | undefined,
  telemetry: (() => CallTelemetry | undefined) | undefined,
): Interceptor {
  const deadlineMs = options.defaultDeadlineMs;
  const token = options.token;
  const clock = options.clock ?? systemClock;
  const createId = options.createCorrelationId;
  return (callOptions: InterceptorOptions, nextCall: NextCall): InterceptingCall => {
    if (inFlight?.closed) return refusedCall();
    const context = currentCallContext();
    const attempt = context?.attempt;
    // grpc-js makes these options per call: setting the deadline in place saves a copy.
    let deadline = toMs(callOptions.deadline);
    const inbound = context?.deadline;
    if (inbound !== undefined && inbound < deadline) deadline = inbound;
    const path = callOptions.method_definition.path;
    if (attempt !== undefined) {
      attempt.calls++;
      const policy = getMethodPolicy(path);
      if (!isRetryablePolicy(policy)) attempt.nonIdempotent = true;
      attempt.method ??= policy?.name ?? methodName(path);
      if (attempt.deadline < deadline) deadline = attempt.deadline;
    }
    if (deadline === Number.POSITIVE_INFINITY && deadlineMs !== undefined)
      deadline = clock.now() + deadlineMs;
    if (deadline !== Number.POSITIVE_INFINITY) callOptions.deadline = deadline;
    const state = new ContextCall(context?.correlationId, createId, token, inFlight, telemetry?.(), path);
    const call = new InterceptingCall(nextCall(callOptions), state);
    state.call = call;
    inFlight?.add(call);
    return call;
  };
}

function toMs(deadline: InterceptorOptions['deadline']): number {
  if (deadline === undefined) return Number.POSITIVE_INFINITY;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * One call's requester and listener in one object (one allocation per call): it sets the
 * metadata on start (and starts the call's span when a tracing hook is installed) and, on the
 * status, ends the span, forgets the call and drops a refused token. Its listener methods take
 * one argument, so grpc-js uses it as is instead of wrapping it. Tracing here rather than in an
 * interceptor of its own saves each call a grpc-js layer (its call, requester and listener).
 */
class ContextCall implements Requester, InterceptingListener {
  call: InterceptingCall | undefined;
  #listener: InterceptingListener | undefined;
  #rpc: RpcScope | undefined;
  readonly #correlationId: string | undefined;
  readonly #createId: (() => string) | undefined;
  readonly #token: TokenSource | undefined;
  readonly #inFlight: InFlightCalls | undefined;
  readonly #telemetry: CallTelemetry | undefined;
  readonly #path: string;

  constructor(
    correlationId: string | undefined,
    createId: (() => string) | undefined,
    token: TokenSource | undefined,
    inFlight: InFlightCalls | undefined,
    telemetry: CallTelemetry | undefined,
    path: string,
  ) {
    this.#correlationId = correlationId;
    this.#createId = createId;
    this.#token = token;
    this.#inFlight = inFlight;
    this.#telemetry = telemetry;
    this.#path = path;
  }

  /**
   * grpc-js copies a requester's `start` off the object and calls it unbound: a bound method,
   * made per call (an arrow class field would also be, plus a name definition under a
   * transpiler that keeps function names).
   */
  readonly start: NonNullable<Requester['start']> = this.#start.bind(this);

  #start(given: Metadata, listener: InterceptingListener, next: (m: Metadata, l: Listener) => void): void {
    // The caller's object is not ours to change: it may be reused for other calls.
    const metadata = given.clone();
    if (metadata.get(CORRELATION_ID_HEADER).length === 0) {
      metadata.set(CORRELATION_ID_HEADER, this.#correlationId ?? newCorrelationId(this.#createId));
    }
    const token = this.#token;
    if (token !== undefined) {
      let value: string;
      try {
        value = token.get();
      } catch (error) {
        this.#forget();
        listener.onReceiveStatus({
          code: status.UNAUTHENTICATED,
          details: `Could not sign a service token: ${error instanceof Error ? error.message : String(error)}`,
          metadata: new Metadata(),
        });
        return;
      }
      metadata.set('authorization', `Bearer ${value}`);
    }
    // Started last, so a call refused above leaves no span; the metadata is this call's copy.
    const rpc = this.#startRpc(metadata);
    this.#rpc = rpc;
    this.#listener = listener;
    if (rpc === undefined) {
      next(metadata, this as Listener);
      return;
    }
    try {
      next(metadata, this as Listener);
    } catch (error) {
      // An interceptor further in threw: the call never starts, so no status will end the span.
      this.#endRpc(status.INTERNAL, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.#listener!.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.#listener!.onReceiveMessage(message);
  }

  onReceiveStatus(s: StatusObject): void {
    this.#forget();
    this.#endRpc(s.code, s.details);
    if (s.code === status.UNAUTHENTICATED) this.#token?.invalidate();
    this.#listener!.onReceiveStatus(s);
  }

  /** The call's span from the tracing hook; a hook that throws leaves the call untraced, not failed. */
  #startRpc(metadata: Metadata): RpcScope | undefined {
    const telemetry = this.#telemetry;
    if (telemetry?.startRpc === undefined) return undefined;
    try {
      return telemetry.startRpc(this.#path, metadata);
    } catch (error) {
      warnHookError('startRpc', error);
      return undefined;
    }
  }

  /** Ends the call's span once; a hook that throws must not keep the status from the caller. */
  #endRpc(code: number, details: string): void {
    const rpc = this.#rpc;
    if (rpc === undefined) return;
    this.#rpc = undefined;
    try {
      rpc.end(code, details);
    } catch (error) {
      warnHookError('end', error);
    }
  }

  #forget(): void {
    if (this.call !== undefined) this.#inFlight?.delete(this.call);
  }
}

/** A tracing hook's throw, reported as a process warning (the call goes on without its span). */
function warnHookError(step: string, error: unknown): void {
  process.emitWarning(
    `The call tracing hook's ${step} threw: ${error instanceof Error ? error.message : String(error)}`,
    { code: 'CLONE_HOOK_ERROR' },
  );
}

/** Stands in for the channel's call once the factory is closed: nothing is ever sent. */
const NO_CALL: ConstructorParameters<typeof InterceptingCall>[0] = {
  cancelWithStatus() {},
  getPeer: () => '',
  sendMessageWithContext() {},
  sendMessage() {},
  startRead() {},
  halfClose() {},
  getAuthContext: () => null,
  start() {},
};

/** A call of a closed factory: it ends with CANCELLED (a ServiceError in the promise form) without starting. */
function refusedCall(): InterceptingCall {
  return new InterceptingCall(NO_CALL, {
    start(_metadata, listener) {
      process.nextTick(() =>
        listener.onReceiveStatus({
          code: status.CANCELLED,
          details: CLOSED_DETAILS,
          metadata: new Metadata(),
        }),
      );
    },
  });
}
