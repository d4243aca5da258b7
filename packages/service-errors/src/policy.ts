import { ServiceErrorCode } from './error-code';
import { isServiceError, ServiceError } from './service-error';

/**
 * What every policy hands to the operation it runs: the signal to stop on, the attempt number
 * (1 outside a retry) and the absolute deadline in the policy clock's milliseconds (`Infinity`
 * when there is none; grpc-js accepts it as is for `deadline`).
 */
export interface ExecuteContext {
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly deadline: number;
}

/** An operation run by a policy; it may ignore the context (`execute(async () => …)`). */
export type Operation<T> = (context: ExecuteContext) => PromiseLike<T> | T;

/**
 * The shape every policy shares. `R` is what a policy may return instead of the operation's
 * value (a fallback's value); `never` for every other policy.
 */
export interface Policy<R = never> {
  /**
   * Runs `fn` under the policy. `signal` cancels the call: a call whose signal aborts rejects
   * at once with the abort's ServiceError (`CANCELLED` unless the reason is a ServiceError).
   */
  execute<T>(fn: Operation<T>, signal?: AbortSignal): Promise<T | R>;
  /** Runs `fn` inside an outer policy's context: same signal, same deadline (see `compose`). */
  run<T>(fn: Operation<T>, context: ExecuteContext): Promise<T | R>;
}

/**
 * A signal that never aborts. Shared by every call made without a caller signal, so the
 * success path allocates no AbortController; compare against it to skip listener wiring.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** Whether `signal` has aborted; the shared never-aborting signal is answered without a getter call. */
export function isAborted(signal: AbortSignal): boolean {
  return signal !== NEVER_ABORTED && signal.aborted;
}

/** The context of a call without a signal, an attempt number or a deadline: shared, frozen. */
export const ROOT_CONTEXT: ExecuteContext = Object.freeze({
  signal: NEVER_ABORTED,
  attempt: 1,
  deadline: Number.POSITIVE_INFINITY,
});

/** The context for a top-level `execute(fn, signal)`. */
export function rootContext(signal: AbortSignal | undefined): ExecuteContext {
  return signal === undefined || signal === NEVER_ABORTED
    ? ROOT_CONTEXT
    : { signal, attempt: 1, deadline: Number.POSITIVE_INFINITY };
}

/**
 * A context that forwards its parent's signal without reading it before it is needed (a
 * parent's signal may be created lazily), with its own attempt and deadline.
 */
export class ChildContext implements ExecuteContext {
  readonly #parent: ExecuteContext;
  readonly attempt: number;
  readonly deadline: number;

  constructor(parent: ExecuteContext, attempt: number, deadline: number) {
    this.#parent = parent;
    this.attempt = attempt;
    this.deadline = deadline;
  }

  get signal(): AbortSignal {
    return this.#parent.signal;
  }
}

/**
 * The ServiceError a call rejects with when its signal aborted: the reason itself when it is a
 * ServiceError (a timeout aborts with its TIMEOUT error), otherwise `CANCELLED` with the reason
 * as cause.
 */
export function abortError(signal: AbortSignal): ServiceError {
  const reason: unknown = signal.reason;
  if (isServiceError(reason)) return reason;
  return new ServiceError(ServiceErrorCode.CANCELLED, 'The operation was cancelled', undefined, {
    retryable: false,
    cause: reason,
  });
}

/**
 * Whether `value` is a promise or another thenable: the one check every @clone package uses
 * to tell an operation's synchronous result from an asynchronous one.
 */
export function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * What a layer wants done with the outcome of the call it runs, handed to the layer inside so
 * that the one settling the call's promise anyway (a timeout) does it as it settles, instead of
 * each outer layer reacting to that promise in turn (a microtask, a promise and a reaction
 * each). A breaker only watches: told `fulfilled` or `rejected`. A retry also answers
 * `rejected` with what the call settles with instead: its next attempts.
 *
 * The inner layer takes the job by setting `claimed` to the promise it returns, and from then
 * on must tell every outcome (an expiry or an abort included) before settling that promise. A
 * layer that does not take it leaves `claimed` alone: then the outer layer reacts to the
 * promise itself. Either way it sees the same outcome. The handlers never throw.
 */
export interface OutcomeObserver {
  fulfilled(): void;
  /** Told a failure; returns what the call settles with instead, or undefined to reject with `error`. */
  rejected(error: unknown): PromiseLike<unknown> | undefined;
  /** The promise whose outcome the inner layer tells; reset by the layer that offered it once read. */
  claimed: PromiseLike<unknown> | undefined;
}

/**
 * A watcher's observer and the one handed to it from outside, told in that order (the watcher
 * sees the failure before the outer layer answers it): what a breaker offers the layer inside
 * when an outer one offered it one. Only the outer one may answer a failure.
 */
export class ObserverPair implements OutcomeObserver {
  claimed: PromiseLike<unknown> | undefined = undefined;
  readonly #inner: OutcomeObserver;
  readonly #outer: OutcomeObserver;

  constructor(inner: OutcomeObserver, outer: OutcomeObserver) {
    this.#inner = inner;
    this.#outer = outer;
  }

  fulfilled(): void {
    this.#inner.fulfilled();
    this.#outer.fulfilled();
  }

  rejected(error: unknown): PromiseLike<unknown> | undefined {
    this.#inner.rejected(error);
    return this.#outer.rejected(error);
  }
}

/**
 * The rest of a chain, as a policy sees it: runs `op` in `context` through the layers inside
 * (or calls `op` itself at the end). It may return a plain value or throw synchronously, as
 * an operation may. `observer`: see {@link OutcomeObserver}; a layer that does not take it
 * leaves it unclaimed.
 */
export type Next = <T>(
  op: Operation<T>,
  context: ExecuteContext,
  observer?: OutcomeObserver,
) => PromiseLike<T> | T;

/** The end of every chain: the operation itself. */
export const callOperation: Next = (op, context) => op(context);

/**
 * The key of the one execution method every policy of this package has: `[EXECUTE](op,
 * context, next)` runs `next(op, context)` under the policy. `execute` and `run` call it with
 * {@link callOperation}; `compose` chains policies by handing each the next one, so a composed
 * call takes the same path as a single policy, with no closure per layer and no special case.
 * Not exported from the package: it is how our policies meet, not an API.
 */
export const EXECUTE: unique symbol = Symbol('@clone/service-errors.execute');

/** A policy of this package: see {@link EXECUTE}. */
export interface Layer<R = never> {
  [EXECUTE]<T>(
    op: Operation<T>,
    context: ExecuteContext,
    next: Next,
    observer?: OutcomeObserver,
  ): Promise<T | R>;
}

/** Whether `policy` is one of this package's policies (else compose goes through its `run`). */
export function isLayer<R>(policy: Policy<R>): policy is Policy<R> & Layer<R> {
  return typeof (policy as Partial<Layer<R>>)[EXECUTE] === 'function';
}
