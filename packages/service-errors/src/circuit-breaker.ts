import {
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  circuitBreakerOptionsSchema,
  DEFAULT_HALF_OPEN_MAX_WAIT_MS,
  isCircuitFailure,
} from './circuit-breaker-options';
import { circuitOpenError } from './circuit-open-error';
import { type CircuitBreakerSnapshot, CircuitState, toSnapshot } from './circuit-state';
import { type Clock, systemClock } from './clock';
import { type DeadlineQueue, deadlineQueueFor } from './deadline-queue';
import { Emitter, type Listener, type Unsubscribe } from './emitter';
import { ServiceErrorCode } from './error-code';
import { type Logger, noopLogger } from './logger';
import {
  abortError,
  callOperation,
  EXECUTE,
  type ExecuteContext,
  isThenable,
  NEVER_ABORTED,
  type Next,
  type Operation,
  type Policy,
  ROOT_CONTEXT,
  rootContext,
} from './policy';
import { ServiceError } from './service-error';
import { runAbortable, Timeout } from './timeout';
import type { TripRule } from './trip-rule';
import { tripRuleFor } from './trip-rules';
import { hookFailed, observerThrew } from './user-hook';
import { parseOptions } from './validation';

const NONE = -1;

/**
 * A CLOSED epoch's outcome handlers, shared by its calls. They observe the call's promise
 * rather than derive a new one from it, so the caller gets that promise itself and an outer
 * layer reacts to it in the same tick: a breaker adds no step to a promise chain.
 */
interface EpochHandlers {
  onFulfilled: (value: unknown) => void;
  onRejected: (error: unknown) => void;
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
 * (Over 400 lines: one state machine whose transitions, admission, probe slots and outcome
 * bookkeeping read each other's fields; the trip rules, options, snapshot and rejection error
 * live in their own files.)
 */
export class CircuitBreaker implements Policy {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #service: string | undefined;
  readonly #successThreshold: number;
  readonly #resetTimeoutMs: number;
  readonly #halfOpenMax: number;
  readonly #halfOpenMaxWaitMs: number;
  readonly #windowed: boolean;
  /** A time window needs every call's clock reading. */
  readonly #timedWindow: boolean;
  /** NONE when slow calls are not tracked. */
  readonly #slowMs: number;
  readonly #isFailure: (error: ServiceError, raw: unknown) => boolean;
  readonly #timeout: Timeout | undefined;
  readonly #rules: TripRule;
  #events: Emitter<CircuitBreakerEvents> | undefined;
  #queue: DeadlineQueue | undefined;
  #handlers: EpochHandlers | undefined;
  /** Whether calls must be timed: slow-call tracking, a time window or a listener. */
  #measure: boolean;

  #state: CircuitState = CircuitState.CLOSED;
  /** Bumped on every transition; a call only counts toward the epoch it was admitted in. */
  #epoch = 0;
  #isolated = false;
  #successes = 0;
  #probes = 0;
  /** When the last probe was admitted (HALF_OPEN). */
  #lastProbeAt = NONE;
  #openedAt = NONE;
  #nextAttemptAt = NONE;
  #lastFailureTime = NONE;
  #totalSuccesses = 0;
  #totalFailures = 0;
  #totalIgnored = 0;
  #totalRejections = 0;
  #totalTimeouts = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    const o = parseOptions(circuitBreakerOptionsSchema, options, 'CircuitBreaker');
    this.#clock = o.clock ?? systemClock;
    this.#logger = o.logger ?? noopLogger;
    this.#service = o.service;
    this.#successThreshold = o.successThreshold;
    this.#resetTimeoutMs = o.resetTimeoutMs;
    this.#halfOpenMax = o.halfOpenMaxConcurrent;
    this.#halfOpenMaxWaitMs = o.halfOpenMaxWaitMs ?? o.timeout ?? DEFAULT_HALF_OPEN_MAX_WAIT_MS;
    this.#windowed = o.slidingWindow !== undefined;
    this.#timedWindow = o.slidingWindow?.type === 'time';
    this.#slowMs = o.slowCallDurationMs ?? NONE;
    this.#isFailure = o.isFailure ?? isCircuitFailure;
    this.#rules = tripRuleFor(o);
    // The breaker's own `timeout` is a Timeout like any other, run inside the breaker.
    const named = o.service === undefined ? {} : { service: o.service };
    this.#timeout =
      o.timeout === undefined
        ? undefined
        : new Timeout({ timeoutMs: o.timeout, clock: this.#clock, ...named });
    this.#measure = this.#slowMs !== NONE || this.#timedWindow;
    if (o.initialState !== undefined) this.#restore(toSnapshot(o.initialState));
  }

  /**
   * The current state; an OPEN circuit whose reset timeout has passed reads as HALF_OPEN, a
   * HALF_OPEN one whose probes all outstayed `halfOpenMaxWaitMs` as OPEN.
   */
  get state(): CircuitState {
    if (this.#state !== CircuitState.CLOSED) this.#advance(this.#clock.now());
    return this.#state;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof CircuitBreakerEvents>(
    event: K,
    listener: Listener<CircuitBreakerEvents[K]>,
  ): Unsubscribe {
    this.#events ??= new Emitter();
    const off = this.#events.on(event, listener);
    this.#updateMeasure();
    return () => {
      off();
      this.#updateMeasure();
    };
  }

  /** Runs `fn` if the circuit lets it through; `signal` cancels it. */
  execute<T>(fn: Operation<T>, signal?: AbortSignal): Promise<T> {
    return this[EXECUTE](fn, rootContext(signal), callOperation);
  }

  /** Runs `fn` inside an outer policy's context (see `compose`). */
  run<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    return this[EXECUTE](fn, context, callOperation);
  }

  /** @internal The one execution path (see `EXECUTE` in policy.ts). */
  [EXECUTE]<T>(op: Operation<T>, context: ExecuteContext, next: Next): Promise<T> {
    if (context !== ROOT_CONTEXT || this.#state !== CircuitState.CLOSED || this.#measure) {
      return this.#runGuarded(op, context, next);
    }
    // The common case: CLOSED, nothing to time, no signal to watch. The outcome handlers are
    // made once per state epoch (so a late result of an earlier epoch is still recognised) and
    // shared by every call of that epoch: no allocation per call beyond the promise.
    // A user's isFailure may throw, which changes what the caller receives: then the outcome
    // goes through the breaker. The default cannot throw: the breaker only observes.
    if (this.#isFailure !== isCircuitFailure) return this.#runGuarded(op, context, next);
    let pending: Promise<T>;
    if (this.#timeout !== undefined) {
      pending = this.#timeout[EXECUTE](op, context, next);
    } else {
      let result: PromiseLike<T> | T;
      try {
        result = next(op, context);
      } catch (error) {
        return Promise.reject(this.#onError(error, NONE, this.#epoch, false));
      }
      if (!isThenable(result)) {
        this.#onSuccess(NONE, this.#epoch, false);
        return Promise.resolve(result);
      }
      pending = Promise.resolve(result);
    }
    const handlers = this.#handlers ?? this.#makeHandlers();
    pending.then(handlers.onFulfilled, handlers.onRejected);
    return pending;
  }

  #makeHandlers(): EpochHandlers {
    // Bound methods rather than closures: no context object or feedback cell per breaker.
    const epoch = this.#epoch;
    const handlers: EpochHandlers = {
      onFulfilled: this.#fulfilled.bind(this, epoch),
      onRejected: this.#rejected.bind(this, epoch),
    };
    this.#handlers = handlers;
    return handlers;
  }

  #fulfilled(epoch: number): void {
    try {
      this.#onSuccess(NONE, epoch, false);
    } catch (error) {
      observerThrew('CircuitBreaker', error);
    }
  }

  #rejected(epoch: number, error: unknown): void {
    try {
      this.#onError(error, NONE, epoch, false);
    } catch (failure) {
      observerThrew('CircuitBreaker', failure);
    }
  }

  /** Every other case: admission when not CLOSED, timing, a timeout, a signal that can abort. */
  async #runGuarded<T>(op: Operation<T>, context: ExecuteContext, next: Next): Promise<T> {
    const signal = context.signal;
    if (signal.aborted) throw abortError(signal);
    const probe = this.#state !== CircuitState.CLOSED && this.#admit();
    const epoch = this.#epoch;
    const start = this.#measure ? this.#clock.now() : NONE;
    let value: T;
    try {
      if (this.#timeout !== undefined) value = await this.#timeout[EXECUTE](op, context, next);
      else if (signal === NEVER_ABORTED) value = await next(op, context);
      else {
        this.#queue ??= deadlineQueueFor(this.#clock);
        value = await runAbortable(op, next, context, this.#queue);
      }
    } catch (error) {
      throw this.#onError(error, start, epoch, probe);
    }
    this.#onSuccess(start, epoch, probe);
    return value;
  }

  /** Current counters; see {@link CircuitBreakerStats}. */
  getStats(): CircuitBreakerStats {
    const state = this.state;
    const now = this.#clock.now();
    return {
      state,
      isolated: this.#isolated,
      failureCount: this.#rules.failures(now),
      successCount: this.#successes,
      windowCalls: this.#rules.calls(now),
      halfOpenInFlight: this.#probes,
      lastFailureTime: this.#lastFailureTime === NONE ? undefined : this.#lastFailureTime,
      nextAttemptTime: state === CircuitState.OPEN && !this.#isolated ? this.#nextAttemptAt : undefined,
      totalSuccesses: this.#totalSuccesses,
      totalFailures: this.#totalFailures,
      totalIgnored: this.#totalIgnored,
      totalRejections: this.#totalRejections,
      totalTimeouts: this.#totalTimeouts,
    };
  }

  /** Opens the circuit and holds it open until {@link reset}: for maintenance or a kill switch. */
  isolate(): void {
    this.#isolated = true;
    if (this.#state === CircuitState.OPEN) {
      this.#nextAttemptAt = Number.POSITIVE_INFINITY;
      this.#newEpoch();
    } else {
      this.#transition(CircuitState.OPEN, 'isolated');
    }
  }

  /** Closes the circuit and clears its counters (also ends an isolation). */
  reset(): void {
    this.#isolated = false;
    this.#transition(CircuitState.CLOSED, 'reset', true);
  }

  /** A snapshot to persist and pass back as `initialState`. */
  toJSON(): CircuitBreakerSnapshot {
    const state = this.state;
    return {
      state,
      isolated: this.#isolated,
      openedAt: state === CircuitState.OPEN ? this.#openedAt : null,
      failureCount: state === CircuitState.CLOSED ? this.#rules.failures(this.#clock.now()) : 0,
    };
  }

  #restore(snapshot: CircuitBreakerSnapshot): void {
    this.#state = snapshot.state;
    this.#isolated = snapshot.isolated;
    if (snapshot.state === CircuitState.OPEN || snapshot.isolated) {
      this.#state = CircuitState.OPEN;
      this.#openedAt = snapshot.openedAt ?? this.#clock.now();
      this.#nextAttemptAt = this.#isolated ? Number.POSITIVE_INFINITY : this.#openedAt + this.#resetTimeoutMs;
    } else if (snapshot.state === CircuitState.CLOSED) {
      this.#rules.restore(snapshot.failureCount);
    }
  }

  /**
   * Moves a circuit whose time has come: OPEN past its reset timeout to HALF_OPEN; HALF_OPEN
   * whose probes all outstayed `halfOpenMaxWaitMs` back to OPEN, as of when they did (and on
   * to HALF_OPEN again if the reset timeout has passed since).
   */
  #advance(now: number): void {
    if (
      this.#state === CircuitState.HALF_OPEN &&
      this.#probes >= this.#halfOpenMax &&
      now - this.#lastProbeAt >= this.#halfOpenMaxWaitMs
    ) {
      this.#transition(
        CircuitState.OPEN,
        'probe did not settle',
        false,
        this.#lastProbeAt + this.#halfOpenMaxWaitMs,
      );
    }
    if (this.#state === CircuitState.OPEN && !this.#isolated && now >= this.#nextAttemptAt) {
      this.#transition(CircuitState.HALF_OPEN, 'reset timeout elapsed');
    }
  }

  /** Admission when not CLOSED: returns true (a probe) or throws CIRCUIT_OPEN. */
  #admit(): boolean {
    const now = this.#clock.now();
    this.#advance(now);
    if (this.#state === CircuitState.OPEN || this.#probes >= this.#halfOpenMax) throw this.#reject(now);
    this.#probes++;
    this.#lastProbeAt = now;
    return true;
  }

  #reject(now: number): ServiceError {
    this.#totalRejections++;
    const state = this.#state;
    const wait =
      state === CircuitState.OPEN && !this.#isolated ? Math.max(0, this.#nextAttemptAt - now) : undefined;
    const error = circuitOpenError(this.#service, state, this.#isolated, wait);
    this.#events?.emit('rejected', { error, state });
    return error;
  }

  #onSuccess(start: number, epoch: number, probe: boolean): void {
    this.#totalSuccesses++;
    let slow = false;
    let now = 0;
    if (this.#measure) {
      now = this.#clock.now();
      const durationMs = start === NONE ? 0 : now - start;
      slow = this.#slowMs !== NONE && durationMs >= this.#slowMs;
      this.#events?.emit('success', { durationMs, slow });
    }
    if (epoch !== this.#epoch) return;
    if (probe) {
      this.#probes--;
      if (slow) this.#transition(CircuitState.OPEN, 'slow probe');
      else if (++this.#successes >= this.#successThreshold)
        this.#transition(CircuitState.CLOSED, 'probes succeeded');
      return;
    }
    if (this.#state !== CircuitState.CLOSED) return;
    if (slow && !this.#windowed) this.#successes = 0;
    else this.#successes++;
    const reason = this.#rules.record(false, slow, false, now);
    if (reason !== undefined) this.#transition(CircuitState.OPEN, reason);
  }

  /** Counts a failed call; returns what the caller receives (the error itself, unless `isFailure` threw). */
  #onError(raw: unknown, start: number, epoch: number, probe: boolean): unknown {
    const error = ServiceError.from(raw);
    let thrown: unknown = raw;
    let counts: boolean;
    try {
      counts = Boolean(this.#isFailure(error, raw));
    } catch (hookError) {
      // The outcome cannot be classified: count it (the call did fail) and say why.
      thrown = hookFailed('CircuitBreaker', 'isFailure', hookError, error, this.#service);
      counts = true;
    }
    const sameEpoch = epoch === this.#epoch;
    if (!counts) {
      this.#totalIgnored++;
      if (sameEpoch && probe) this.#probes--;
      return thrown;
    }
    const now = this.#clock.now();
    const durationMs = start === NONE ? 0 : now - start;
    const slow = this.#slowMs !== NONE && durationMs >= this.#slowMs;
    this.#totalFailures++;
    this.#lastFailureTime = now;
    if (error.code === ServiceErrorCode.TIMEOUT) {
      this.#totalTimeouts++;
      this.#events?.emit('timeout', { error, durationMs });
    }
    this.#events?.emit('failure', { error, durationMs, slow });
    if (!sameEpoch) return thrown;
    if (probe) {
      this.#probes--;
      this.#rules.record(true, slow, true, now);
      this.#transition(CircuitState.OPEN, 'probe failed');
      return thrown;
    }
    if (this.#state !== CircuitState.CLOSED) return thrown;
    this.#successes = 0;
    const reason = this.#rules.record(true, slow, false, now);
    if (reason !== undefined) this.#transition(CircuitState.OPEN, reason);
    return thrown;
  }

  /** `at`: when the move happened, if earlier than now (a lazily noticed probe wait). */
  #transition(to: CircuitState, reason: string, force = false, at?: number): void {
    const from = this.#state;
    if (from === to && !force) return;
    this.#state = to;
    this.#newEpoch();
    this.#rules.changed(to === CircuitState.CLOSED, to === CircuitState.OPEN);
    this.#successes = 0;
    this.#probes = 0;
    this.#lastProbeAt = NONE;
    if (to === CircuitState.OPEN) {
      this.#openedAt = at ?? this.#clock.now();
      this.#nextAttemptAt = this.#isolated ? Number.POSITIVE_INFINITY : this.#openedAt + this.#resetTimeoutMs;
      this.#logger.warn('circuit opened', { service: this.#service, reason });
    } else {
      this.#openedAt = NONE;
      this.#nextAttemptAt = NONE;
      if (to === CircuitState.CLOSED) this.#logger.info('circuit closed', { service: this.#service, reason });
    }
    if (from !== to) this.#events?.emit('stateChange', { from, to, reason });
  }

  #newEpoch(): void {
    this.#epoch++;
    this.#handlers = undefined;
  }

  #updateMeasure(): void {
    const e = this.#events;
    this.#measure =
      this.#slowMs !== NONE ||
      this.#timedWindow ||
      (e !== undefined &&
        (e.hasListeners('success') || e.hasListeners('failure') || e.hasListeners('timeout')));
  }
}
