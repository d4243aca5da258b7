import { durationMs } from '@clone/internal';
import { z } from 'zod';
import { BasePolicy } from './base-policy';
import { type Clock, systemClock } from './clock';
import { type DeadlineEntry, type DeadlineQueue, deadlineQueueFor } from './deadline-queue';
import { Emitter, type Listener, type Unsubscribe } from './emitter';
import { ServiceErrorCode } from './error-code';
import { clockOption } from './option-schemas';
import {
  abortError,
  EXECUTE,
  type ExecuteContext,
  isAborted,
  isThenable,
  NEVER_ABORTED,
  type Next,
  type Operation,
  type OutcomeObserver,
} from './policy';
import { ServiceError } from './service-error';
import { parseOptions } from './validation';

/**
 * The key of the method a {@link runWithDeadline} call reports its expiry to (a Timeout, a
 * RetryPolicy's deadline): a module symbol, so it is no public method, and no object per owner.
 */
export const TIMED_OUT: unique symbol = Symbol('@clone/service-errors.timedOut');

/** Options of a {@link Timeout}. */
export const timeoutOptionsSchema = z.strictObject({
  /** How long one call may take, in ms (1 to 2^31−1, what a timer holds). */
  timeoutMs: durationMs(),
  /** Service name put on the TIMEOUT error. */
  service: z.string().optional(),
  clock: clockOption.optional(),
});

/** Options of a {@link Timeout}. */
export type TimeoutOptions = z.input<typeof timeoutOptionsSchema>;

/** Events of a {@link Timeout}. */
export interface TimeoutEvents {
  /** A call ran past its deadline and was rejected with TIMEOUT (its signal aborted). */
  timeout: { timeoutMs: number; error: ServiceError };
}

/**
 * Bounds how long a call may take: at the deadline the call rejects with a retryable
 * `TIMEOUT` ServiceError and the signal handed to the operation aborts with that error, so a
 * gRPC call or `fetch` given the signal stops too. The deadline is the earlier of `timeoutMs`
 * from the start and the outer context's deadline (a retry's overall deadline).
 *
 * Cheap on the success path: no timer and no clock read per call (one shared ticker per clock,
 * see DeadlineQueue: a call may run up to about a millisecond past its deadline, as with Node's
 * own timers, never less than `timeoutMs`), and the AbortController is only created if the
 * operation reads `context.signal`.
 */
export class Timeout extends BasePolicy {
  readonly timeoutMs: number;
  readonly #service: string | undefined;
  readonly #clock: Clock;
  readonly #queue: DeadlineQueue;
  #events: Emitter<TimeoutEvents> | undefined;
  constructor(options: TimeoutOptions) {
    super();
    const o = parseOptions(timeoutOptionsSchema, options, 'Timeout');
    this.timeoutMs = o.timeoutMs;
    this.#service = o.service;
    this.#clock = o.clock ?? systemClock;
    this.#queue = deadlineQueueFor(this.#clock);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof TimeoutEvents>(event: K, listener: Listener<TimeoutEvents[K]>): Unsubscribe {
    this.#events ??= new Emitter();
    return this.#events.on(event, listener);
  }

  /** @internal The one execution path (see `EXECUTE` in policy.ts). */
  [EXECUTE]<T>(
    op: Operation<T>,
    context: ExecuteContext,
    next: Next,
    observer?: OutcomeObserver,
  ): Promise<T> {
    const now = this.#queue.now();
    const own = now + this.timeoutMs;
    const deadline = Math.min(context.deadline, own);
    return runWithDeadline(op, next, context, deadline, now, this.#queue, this.timeoutMs, this, observer);
  }

  /** @internal A call's deadline passed (see `TIMED_OUT`). */
  [TIMED_OUT](timeoutMs: number, deadline: number): ServiceError {
    const error = timeoutError(this.#service, timeoutMs, deadline);
    this.#events?.emit('timeout', { timeoutMs, error });
    return error;
  }
}

/** Who a {@link runWithDeadline} call reports its expiry to. */
export interface TimeoutOwner {
  [TIMED_OUT](timeoutMs: number, deadline: number): ServiceError;
}

function timeoutError(service: string | undefined, timeoutMs: number, deadline: number): ServiceError {
  return new ServiceError(ServiceErrorCode.TIMEOUT, `Operation timed out after ${timeoutMs} ms`, service, {
    retryable: true,
    metadata: { timeoutMs, deadline },
  });
}

/**
 * Runs `next(op, …)` so that it settles by `deadline`: used by Timeout and by a RetryPolicy's
 * overall deadline. `timeoutMs` is only for the error message. An `observer` (an outer
 * layer's: a breaker's, a retry's) is taken when the call races, i.e. settles a promise of its
 * own (see `OutcomeObserver`); it is not handed further down.
 */
export function runWithDeadline<T>(
  op: Operation<T>,
  next: Next,
  parent: ExecuteContext,
  deadline: number,
  now: number,
  queue: DeadlineQueue,
  timeoutMs: number,
  owner: TimeoutOwner,
  observer?: OutcomeObserver,
): Promise<T> {
  const parentSignal = parent.signal;
  if (isAborted(parentSignal)) return Promise.reject(abortError(parentSignal));
  if (deadline <= now) return Promise.reject(owner[TIMED_OUT](timeoutMs, deadline));
  const call = new TimedCall<T>(parent, deadline, queue, timeoutMs, owner);
  let result: PromiseLike<T> | T;
  try {
    result = next(op, call);
  } catch (error) {
    call.settled = true;
    return Promise.reject(error);
  }
  // A synchronous result cannot be interrupted; there is nothing to race.
  if (!isThenable(result)) {
    call.settled = true;
    return Promise.resolve(result);
  }
  return call.race(result, observer);
}

const NEVER_TIMES_OUT: TimeoutOwner = {
  [TIMED_OUT]: () => {
    throw new Error('unreachable: an infinite deadline expired');
  },
};

/**
 * Runs `next(op, …)` so that it rejects as soon as the context's signal aborts, even if `op` ignores
 * the signal. Only worth its cost when the signal can abort (not NEVER_ABORTED).
 */
export function runAbortable<T>(
  op: Operation<T>,
  next: Next,
  context: ExecuteContext,
  queue: DeadlineQueue,
  observer?: OutcomeObserver,
): Promise<T> {
  return runWithDeadline(op, next, context, Number.POSITIVE_INFINITY, 0, queue, 0, NEVER_TIMES_OUT, observer);
}

/**
 * One call under a deadline: the context handed to the operation (its signal created on
 * first read) and the deadline entry that rejects the call when it expires.
 */
class TimedCall<T> implements ExecuteContext, DeadlineEntry {
  readonly deadline: number;
  heapIndex = -1;
  settled = false;
  readonly #parent: ExecuteContext;
  readonly #queue: DeadlineQueue;
  readonly #timeoutMs: number;
  readonly #owner: TimeoutOwner;
  #controller: AbortController | undefined;
  #resolve: ((value: T | PromiseLike<T>) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #reason: ServiceError | undefined;
  #listening: AbortSignal | undefined;
  #observer: OutcomeObserver | undefined;

  constructor(
    parent: ExecuteContext,
    deadline: number,
    queue: DeadlineQueue,
    timeoutMs: number,
    owner: TimeoutOwner,
  ) {
    this.#parent = parent;
    this.deadline = deadline;
    this.#queue = queue;
    this.#timeoutMs = timeoutMs;
    this.#owner = owner;
  }

  get attempt(): number {
    return this.#parent.attempt;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
      else if (this.settled) {
        // Finished before anyone asked: the signal stays quiet.
      } else {
        const parent = this.#parent.signal;
        if (parent.aborted) this.#controller.abort(parent.reason);
      }
    }
    return this.#controller.signal;
  }

  race(result: PromiseLike<T>, observer: OutcomeObserver | undefined): Promise<T> {
    // One executor shared by every call (no closure per call): it hands over the settlers.
    TimedCall.#starting = this;
    const promise = new Promise<T>(TimedCall.#takeSettlers);
    TimedCall.#starting = undefined;
    this.#queue.add(this);
    const parent = this.#parent.signal;
    if (parent !== NEVER_ABORTED) {
      this.#listening = parent;
      parent.addEventListener('abort', this);
    }
    if (observer !== undefined) {
      this.#observer = observer;
      observer.claimed = promise;
    }
    result.then(
      (value) => {
        if (!this.#finish()) return;
        this.#resolve!(value);
        this.#observer?.fulfilled();
      },
      (error: unknown) => {
        if (this.#finish()) this.#failed(error);
      },
    );
    return promise;
  }

  /** Settles a failed call: told to the observer first, which may answer it (a retry's next attempts). */
  #failed(error: unknown): void {
    const instead = this.#observer?.rejected(error);
    if (instead === undefined) this.#reject!(error);
    else this.#resolve!(instead as PromiseLike<T>);
  }

  /** The call whose promise is being made (the Promise executor runs synchronously). */
  static #starting: TimedCall<any> | undefined;

  static #takeSettlers(resolve: (value: any) => void, reject: (error: unknown) => void): void {
    const call = TimedCall.#starting!;
    call.#resolve = resolve;
    call.#reject = reject;
  }

  /** The deadline passed. */
  expire(): void {
    if (this.settled) return;
    this.#fail(this.#owner[TIMED_OUT](this.#timeoutMs, this.deadline));
  }

  /** The parent signal aborted: the call is its own listener object, so no closure per call. */
  handleEvent(): void {
    if (!this.settled) this.#fail(abortError(this.#listening!));
  }

  #fail(error: ServiceError): void {
    this.#finish();
    this.#reason = error;
    // The operation hears the abort before anyone acts on the failure (a retry starts the
    // next attempt at once).
    this.#controller?.abort(error);
    this.#failed(error);
  }

  #finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#queue.remove(this);
    if (this.#listening !== undefined) this.#listening.removeEventListener('abort', this);
    return true;
  }
}
