import { BasePolicy } from './base-policy';
import {
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  circuitBreakerOptionsSchema,
  DEFAULT_HALF_OPEN_MAX_WAIT_MS,
  isCircuitFailure,
} from './circuit-breaker-options';
import { CircuitRecorder, UNTIMED } from './circuit-recorder';
import { type CircuitBreakerSnapshot, CircuitState, toSnapshot } from './circuit-state';
import type { CircuitStateMachine } from './circuit-state-machine';
import { type Clock, systemClock } from './clock';
import { type DeadlineQueue, deadlineQueueFor } from './deadline-queue';
import type { Listener, Unsubscribe } from './emitter';
import { noopLogger } from './logger';
import {
  abortError,
  EXECUTE,
  type ExecuteContext,
  isAborted,
  isThenable,
  NEVER_ABORTED,
  type Next,
  ObserverPair,
  type Operation,
  type OutcomeObserver,
} from './policy';
import { runAbortable, Timeout } from './timeout';
import { tripRuleFor } from './trip-rules';
import { observerThrew } from './user-hook';
import { parseOptions } from './validation';

/**
 * The outcome reactions shared by every untimed call of one state epoch (its calls are all
 * probes, or none is): made once per epoch, so a call allocates no reaction of its own, and a
 * late result of an earlier epoch is still recognised as such. They observe the call's promise
 * rather than derive one from it: the caller gets that promise itself, and an outer policy
 * reacts to it in the same round of reactions as the breaker. Handed to the layer inside as
 * its {@link OutcomeObserver}: a timeout there reports to them as it settles.
 */
interface EpochReactions extends OutcomeObserver {
  readonly epoch: number;
  readonly fulfilled: () => void;
  readonly rejected: (error: unknown) => undefined;
}

/**
 * Stops calling a failing service. CLOSED counts failures (consecutive, or a rate over a
 * sliding window: see `tripRuleFor`); at the threshold it opens and rejects calls at once
 * with a non-retryable `CIRCUIT_OPEN` ServiceError; after `resetTimeoutMs` the next call finds
 * it HALF_OPEN and probes (at most `halfOpenMaxConcurrent` at a time); `successThreshold`
 * successful probes close it, a failed one reopens it, and probes that hold every slot for
 * `halfOpenMaxWaitMs` reopen it too.
 *
 * An idle breaker holds no timer: the move to HALF_OPEN (or back to OPEN) is decided by the
 * next call (or a read of `state`) from the injected clock. Results of calls admitted before a
 * state change do not count toward the new state. Errors pass through unchanged.
 *
 * This class runs calls; the states live in `CircuitStateMachine`, the meaning of each
 * outcome (totals, events, `isFailure`) in `CircuitRecorder`, when to open in the trip
 * rules, the per-call timeout in a {@link Timeout}.
 */
export class CircuitBreaker extends BasePolicy {
  readonly #clock: Clock;
  readonly #machine: CircuitStateMachine;
  readonly #recorder: CircuitRecorder;
  readonly #timeout: Timeout | undefined;
  #queue: DeadlineQueue | undefined;
  #reactions: EpochReactions | undefined;
  /** Whether an outcome can only be observed: the default `isFailure` never throws. */
  readonly #observeOnly: boolean;

  constructor(options: CircuitBreakerOptions = {}) {
    super();
    const o = parseOptions(circuitBreakerOptionsSchema, options, 'CircuitBreaker');
    this.#clock = o.clock ?? systemClock;
    const states = {
      successThreshold: o.successThreshold,
      resetTimeoutMs: o.resetTimeoutMs,
      halfOpenMaxConcurrent: o.halfOpenMaxConcurrent,
      halfOpenMaxWaitMs: o.halfOpenMaxWaitMs ?? o.timeout ?? DEFAULT_HALF_OPEN_MAX_WAIT_MS,
      windowed: o.slidingWindow !== undefined,
    };
    this.#recorder = new CircuitRecorder(states, tripRuleFor(o), this.#clock, o.logger ?? noopLogger, {
      service: o.service,
      isFailure: o.isFailure ?? isCircuitFailure,
      slowCallDurationMs: o.slowCallDurationMs,
      timedWindow: o.slidingWindow?.type === 'time',
    });
    this.#machine = this.#recorder.machine;
    this.#observeOnly = o.isFailure === undefined;
    // The breaker's own `timeout` is a Timeout like any other, run inside the breaker.
    this.#timeout =
      o.timeout === undefined
        ? undefined
        : new Timeout({
            timeoutMs: o.timeout,
            clock: this.#clock,
            ...(o.service === undefined ? {} : { service: o.service }),
          });
    if (o.initialState !== undefined) this.#machine.restore(toSnapshot(o.initialState));
  }

  /**
   * The current state; an OPEN circuit whose reset timeout has passed reads as HALF_OPEN, a
   * HALF_OPEN one whose probes all outstayed `halfOpenMaxWaitMs` as OPEN.
   */
  get state(): CircuitState {
    const machine = this.#machine;
    return machine.state === CircuitState.CLOSED ? CircuitState.CLOSED : machine.stateAt(this.#clock.now());
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof CircuitBreakerEvents>(
    event: K,
    listener: Listener<CircuitBreakerEvents[K]>,
  ): Unsubscribe {
    return this.#recorder.on(event, listener);
  }

  /**
   * @internal The one execution path (see `EXECUTE` in policy.ts): admit, run, record. Every
   * call takes it; what varies is only what each step has to do (a probe slot when not CLOSED,
   * a clock reading when calls are timed, a per-call reaction when its outcome needs one).
   */
  [EXECUTE]<T>(op: Operation<T>, context: ExecuteContext, next: Next, outer?: OutcomeObserver): Promise<T> {
    const signal = context.signal;
    if (isAborted(signal)) return Promise.reject(abortError(signal));
    const machine = this.#machine;
    const recorder = this.#recorder;
    let probe = false;
    if (machine.state !== CircuitState.CLOSED) {
      const now = this.#clock.now();
      if (!machine.admitProbe(now)) return Promise.reject(recorder.rejected(now));
      probe = true;
    }
    const epoch = machine.epoch;
    const start = recorder.measure ? this.#clock.now() : UNTIMED;
    // Nothing to time and an `isFailure` that cannot throw: the outcome is only observed, by
    // the reactions shared by this epoch's calls, which the layer inside may take on, with an
    // outer layer's observer after them (see OutcomeObserver). Otherwise the breaker may
    // replace what the caller gets, so an outer observer must see its promise: none goes down.
    const own =
      start === UNTIMED && this.#observeOnly
        ? this.#reactions?.epoch === epoch
          ? this.#reactions
          : this.#react(epoch, probe)
        : undefined;
    const offered = own === undefined || outer === undefined ? own : new ObserverPair(own, outer);
    let result: PromiseLike<T> | T;
    try {
      result = this.#start(op, context, next, offered);
    } catch (error) {
      return Promise.reject(recorder.failed(error, start, epoch, probe));
    }
    if (!isThenable(result)) {
      recorder.succeeded(start, epoch, probe);
      return Promise.resolve(result);
    }
    const pending = Promise.resolve(result);
    if (own !== undefined) {
      const claimed = offered!.claimed === pending;
      own.claimed = undefined;
      if (!claimed) pending.then(own.fulfilled, own.rejected);
      else if (outer !== undefined) outer.claimed = pending;
      return pending;
    }
    // A call to time, or an `isFailure` that may throw (and so replace what the caller gets).
    return pending.then(
      (value) => {
        recorder.succeeded(start, epoch, probe);
        return value;
      },
      (error: unknown) => {
        throw recorder.failed(error, start, epoch, probe);
      },
    );
  }

  /**
   * Starts the call: inside the breaker's own timeout, or raced against a signal that can
   * abort. `observer` is offered to whichever settles the call's promise (see `OutcomeObserver`).
   */
  #start<T>(
    op: Operation<T>,
    context: ExecuteContext,
    next: Next,
    observer: OutcomeObserver | undefined,
  ): PromiseLike<T> | T {
    if (this.#timeout !== undefined) return this.#timeout[EXECUTE](op, context, next, observer);
    if (context.signal === NEVER_ABORTED) return next(op, context, observer);
    this.#queue ??= deadlineQueueFor(this.#clock);
    return runAbortable(op, next, context, this.#queue, observer);
  }

  /**
   * The shared reactions of `epoch`. Bound methods rather than closures: a closure that runs
   * costs each breaker a context and feedback of its own, several hundred bytes.
   */
  #react(epoch: number, probe: boolean): EpochReactions {
    const reactions: EpochReactions = {
      epoch,
      fulfilled: this.#fulfilled.bind(this, epoch, probe),
      rejected: this.#rejected.bind(this, epoch, probe),
      claimed: undefined,
    };
    this.#reactions = reactions;
    return reactions;
  }

  #fulfilled(epoch: number, probe: boolean): void {
    try {
      this.#recorder.succeeded(UNTIMED, epoch, probe);
    } catch (error) {
      observerThrew('CircuitBreaker', error);
    }
  }

  /** Returns undefined: a breaker only watches a failure, never answers it (see OutcomeObserver). */
  #rejected(epoch: number, probe: boolean, raw: unknown): undefined {
    try {
      this.#recorder.failed(raw, UNTIMED, epoch, probe);
    } catch (error) {
      observerThrew('CircuitBreaker', error);
    }
    return undefined;
  }

  /** Current counters; see {@link CircuitBreakerStats}. */
  getStats(): CircuitBreakerStats {
    const machine = this.#machine;
    const now = this.#clock.now();
    const state = machine.stateAt(now);
    return {
      state,
      isolated: machine.isolated,
      failureCount: machine.failures(now),
      successCount: machine.successes,
      windowCalls: machine.calls(now),
      halfOpenInFlight: machine.probes,
      nextAttemptTime: machine.nextAttemptAt(),
      ...this.#recorder.totals(),
    };
  }

  /** Opens the circuit and holds it open until {@link reset}: for maintenance or a kill switch. */
  isolate(): void {
    this.#machine.isolate();
  }

  /** Closes the circuit and clears its counters (also ends an isolation). */
  reset(): void {
    this.#machine.reset();
  }

  /** A snapshot to persist and pass back as `initialState`. */
  toJSON(): CircuitBreakerSnapshot {
    return this.#machine.snapshot(this.#clock.now());
  }
}
