import { functionOption, intAtLeast } from '@clone/internal';
import { z } from 'zod';
import { type Clock, systemClock } from './clock';
import { type DeadlineQueue, deadlineQueueFor } from './deadline-queue';
import { Emitter, type Listener, type Unsubscribe } from './emitter';
import { ServiceErrorCode } from './error-code';
import { type Logger, noopLogger } from './logger';
import { clockOption, loggerOption } from './option-schemas';
import {
  abortError,
  type ExecuteContext,
  isThenable,
  NEVER_ABORTED,
  type Operation,
  type Policy,
  ROOT_CONTEXT,
  rootContext,
} from './policy';
import { ServiceError } from './service-error';
import { CountWindow, FAILED, SLOW, type SlidingWindow, TimeWindow } from './sliding-window';
import { runAbortable, Timeout } from './timeout';
import { parseOptions } from './validation';

/** The three states of a circuit breaker. */
export enum CircuitState {
  /** Calls pass; failures are counted. */
  CLOSED = 'CLOSED',
  /** Calls are rejected with CIRCUIT_OPEN until `resetTimeoutMs` has passed. */
  OPEN = 'OPEN',
  /** A limited number of probe calls pass; their outcome closes or reopens the circuit. */
  HALF_OPEN = 'HALF_OPEN',
}

/** What `toJSON()` returns and `initialState` accepts: enough to restore a breaker. */
export interface CircuitBreakerSnapshot {
  state: CircuitState;
  isolated: boolean;
  /** When the circuit last opened (clock ms); null unless OPEN. */
  openedAt: number | null;
  /** Consecutive failures counted while CLOSED. */
  failureCount: number;
}

/** Codes that say nothing about the health of the callee, so they never open a circuit. */
const NOT_FAILURES: ReadonlySet<ServiceErrorCode> = new Set([
  ServiceErrorCode.BAD_REQUEST,
  ServiceErrorCode.UNAUTHORIZED,
  ServiceErrorCode.FORBIDDEN,
  ServiceErrorCode.NOT_FOUND,
  ServiceErrorCode.CONFLICT,
  ServiceErrorCode.CANCELLED,
  ServiceErrorCode.BULKHEAD_FULL,
]);

/**
 * The default `isFailure`: everything counts except the caller's own mistakes and decisions
 * (BAD_REQUEST, i.e. gRPC INVALID_ARGUMENT, NOT_FOUND, UNAUTHORIZED, FORBIDDEN, CONFLICT), a
 * cancellation by the caller, and a local bulkhead rejection.
 */
export function isCircuitFailure(error: ServiceError): boolean {
  return !NOT_FAILURES.has(error.code);
}

const rate = (text: string) => z.number({ error: text }).gt(0, { error: text }).max(1, { error: text });
const RATE_TEXT = 'must be a number greater than 0 and at most 1';

const snapshotSchema = z.strictObject({
  state: z.enum(CircuitState),
  isolated: z.boolean().default(false),
  openedAt: z.number().nullable().default(null),
  failureCount: intAtLeast(0).default(0),
});

/** Options of a {@link CircuitBreaker}; every field is optional. */
export const circuitBreakerOptionsSchema = z.strictObject({
  /** Consecutive failures that open the circuit (default 5; see `slidingWindow`). */
  failureThreshold: intAtLeast(1).optional(),
  /** Successful probes in HALF_OPEN that close the circuit (default 2). */
  successThreshold: intAtLeast(1).default(2),
  /** Per-call timeout in ms: the operation's signal aborts and the call fails with TIMEOUT. */
  timeout: intAtLeast(1).optional(),
  /** How long the circuit stays OPEN before the next call probes it, in ms (default 60 000). */
  resetTimeoutMs: intAtLeast(1).default(60_000),
  /** Probes allowed in flight in HALF_OPEN (default 1). */
  halfOpenMaxConcurrent: intAtLeast(1).default(1),
  /**
   * Decide on a failure rate over a window instead of consecutive failures: the last `size`
   * calls, or the calls of the last `sizeMs` (in `buckets` steps, default 10).
   */
  slidingWindow: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('count'), size: intAtLeast(1, 100_000) }),
      z.strictObject({
        type: z.literal('time'),
        sizeMs: intAtLeast(1),
        buckets: intAtLeast(1, 1000).default(10),
      }),
    ])
    .optional(),
  /** Failure rate (0–1] over the window that opens the circuit (default 0.5). */
  failureRateThreshold: rate(RATE_TEXT).default(0.5),
  /** Calls the window must hold before a rate is trusted (default 10). */
  minimumCalls: intAtLeast(1).default(10),
  /** A call taking at least this long (ms) is slow. */
  slowCallDurationMs: intAtLeast(1).optional(),
  /** Rate (0–1] of slow calls over the window that opens the circuit (default 1). */
  slowCallRateThreshold: rate(RATE_TEXT).default(1),
  /** Which errors count as failures; default {@link isCircuitFailure}. */
  isFailure: functionOption<(error: ServiceError, raw: unknown) => boolean>().optional(),
  /** Start in this state, or restore a `toJSON()` snapshot. */
  initialState: z.union([z.enum(CircuitState), snapshotSchema]).optional(),
  /** Name of the protected service, put on CIRCUIT_OPEN errors and log lines. */
  service: z.string().optional(),
  clock: clockOption.optional(),
  logger: loggerOption.optional(),
});

/** Options of a {@link CircuitBreaker}. */
export type CircuitBreakerOptions = z.input<typeof circuitBreakerOptionsSchema>;

/** Events of a {@link CircuitBreaker}. */
export interface CircuitBreakerEvents {
  stateChange: { from: CircuitState; to: CircuitState; reason: string };
  /** A call succeeded; `slow` when it took `slowCallDurationMs` or more. */
  success: { durationMs: number; slow: boolean };
  /** A call failed with an error that counts (see `isFailure`). */
  failure: { error: ServiceError; durationMs: number; slow: boolean };
  /** A call was rejected without running: OPEN, or HALF_OPEN with every probe slot taken. */
  rejected: { error: ServiceError; state: CircuitState };
  /** A call failed with TIMEOUT (the breaker's own `timeout` or the callee's deadline). */
  timeout: { error: ServiceError; durationMs: number };
}

/** What {@link CircuitBreaker.getStats} returns. */
export interface CircuitBreakerStats {
  state: CircuitState;
  isolated: boolean;
  /** Failures counted toward opening: consecutive failures, or failures in the window. */
  failureCount: number;
  /** Successes in the current state: since the last failure when CLOSED, probes in HALF_OPEN. */
  successCount: number;
  /** Calls in the sliding window (0 without one). */
  windowCalls: number;
  /** Probes in flight (HALF_OPEN). */
  halfOpenInFlight: number;
  /** Clock ms of the last counted failure; undefined if none. */
  lastFailureTime: number | undefined;
  /** Clock ms from which the next call probes an OPEN circuit; undefined unless OPEN. */
  nextAttemptTime: number | undefined;
  totalSuccesses: number;
  totalFailures: number;
  /** Calls that failed with an error that does not count (see `isFailure`). */
  totalIgnored: number;
  totalRejections: number;
  totalTimeouts: number;
}

const NONE = -1;

/** @internal A CLOSED epoch's outcome handlers, shared by its calls. */
export interface FastHandlers {
  onFulfilled: (value: unknown) => unknown;
  /** Counts the error, then rethrows it. */
  onRejected: (error: unknown) => never;
}

/**
 * Stops calling a failing service. CLOSED counts failures (consecutive, or a rate over a
 * sliding window); at the threshold it opens and rejects calls at once with a non-retryable
 * `CIRCUIT_OPEN` ServiceError; after `resetTimeoutMs` the next call finds it HALF_OPEN and
 * probes (at most `halfOpenMaxConcurrent` at a time); `successThreshold` successful probes
 * close it, a failed one reopens it.
 *
 * An idle breaker holds no timer: the move to HALF_OPEN is decided by the next call (or a
 * read of `state`) from the injected clock. Results of calls admitted before a state change
 * do not count toward the new state. Errors pass through unchanged.
 */
export class CircuitBreaker implements Policy {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #service: string | undefined;
  /** NONE when only the window decides. */
  readonly #failureThreshold: number;
  readonly #successThreshold: number;
  readonly #resetTimeoutMs: number;
  readonly #halfOpenMax: number;
  readonly #windowSpec: z.output<typeof circuitBreakerOptionsSchema>['slidingWindow'];
  readonly #failureRate: number;
  readonly #minimumCalls: number;
  /** NONE when slow calls are not tracked. */
  readonly #slowMs: number;
  readonly #slowRate: number;
  readonly #isFailure: (error: ServiceError, raw: unknown) => boolean;
  readonly #timeout: Timeout | undefined;
  #events: Emitter<CircuitBreakerEvents> | undefined;
  #queue: DeadlineQueue | undefined;
  #handlers: FastHandlers | undefined;
  /** Whether calls must be timed: slow-call tracking, a time window or a listener. */
  #measure: boolean;

  #state: CircuitState = CircuitState.CLOSED;
  /** Bumped on every transition; a call only counts toward the epoch it was admitted in. */
  #epoch = 0;
  #isolated = false;
  #failures = 0;
  #successes = 0;
  #probes = 0;
  #openedAt = NONE;
  #nextAttemptAt = NONE;
  #lastFailureTime = NONE;
  #window: SlidingWindow | undefined;
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
    this.#failureThreshold = o.failureThreshold ?? (o.slidingWindow === undefined ? 5 : NONE);
    this.#successThreshold = o.successThreshold;
    this.#resetTimeoutMs = o.resetTimeoutMs;
    this.#halfOpenMax = o.halfOpenMaxConcurrent;
    this.#windowSpec = o.slidingWindow;
    this.#failureRate = o.failureRateThreshold;
    this.#minimumCalls = o.minimumCalls;
    this.#slowMs = o.slowCallDurationMs ?? NONE;
    this.#slowRate = o.slowCallRateThreshold;
    this.#isFailure = o.isFailure ?? isCircuitFailure;
    this.#timeout =
      o.timeout === undefined
        ? undefined
        : new Timeout(
            o.service === undefined
              ? { timeoutMs: o.timeout, clock: this.#clock }
              : { timeoutMs: o.timeout, clock: this.#clock, service: o.service },
          );
    this.#measure = this.#slowMs !== NONE || o.slidingWindow?.type === 'time';
    const initial = o.initialState;
    if (initial !== undefined) {
      const snapshot =
        typeof initial === 'string' ? { state: initial, isolated: false, openedAt: null } : initial;
      this.#state = snapshot.state;
      this.#isolated = snapshot.isolated;
      if (snapshot.state === CircuitState.OPEN || snapshot.isolated) {
        this.#state = CircuitState.OPEN;
        this.#openedAt = snapshot.openedAt ?? this.#clock.now();
        this.#nextAttemptAt = this.#isolated
          ? Number.POSITIVE_INFINITY
          : this.#openedAt + this.#resetTimeoutMs;
      }
      if (typeof initial !== 'string' && snapshot.state === CircuitState.CLOSED)
        this.#failures = initial.failureCount;
    }
  }

  /** The current state; an OPEN circuit whose reset timeout has passed reads as HALF_OPEN. */
  get state(): CircuitState {
    if (this.#state === CircuitState.OPEN && !this.#isolated && this.#clock.now() >= this.#nextAttemptAt) {
      this.#transition(CircuitState.HALF_OPEN, 'reset timeout elapsed');
    }
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
    return this.run(fn, rootContext(signal));
  }

  /** Runs `fn` inside an outer policy's context (see `compose`). */
  run<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    if (context !== ROOT_CONTEXT || this.#state !== CircuitState.CLOSED || this.#measure) {
      return this.#runGuarded(fn, context);
    }
    if (this.#timeout !== undefined) {
      const handlers = this.#handlers ?? this.#makeHandlers();
      return this.#timeout
        .run(fn, context)
        .then(handlers.onFulfilled as (value: T) => T, handlers.onRejected);
    }
    // The common case: CLOSED, nothing to time, no signal to watch. The outcome handlers are
    // made once per state epoch (so a late result of an earlier epoch is still recognised) and
    // shared by every call of that epoch: no allocation per call beyond the promise.
    let result: PromiseLike<T> | T;
    try {
      result = fn(context);
    } catch (error) {
      this.#onError(error, NONE, this.#epoch, false);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.#onSuccess(NONE, this.#epoch, false);
      return Promise.resolve(result);
    }
    const handlers = this.#handlers ?? this.#makeHandlers();
    return Promise.resolve(result).then(handlers.onFulfilled as (value: T) => T, handlers.onRejected);
  }

  /**
   * @internal For `compose`: the shared outcome handlers of the current epoch when a call
   * needs nothing else (CLOSED, untimed), else undefined.
   */
  fastHandlers(): FastHandlers | undefined {
    if (this.#state !== CircuitState.CLOSED || this.#measure) return undefined;
    return this.#handlers ?? this.#makeHandlers();
  }

  /** @internal For `compose`: the breaker's own `timeout`, if it has one. */
  ownTimeout(): Timeout | undefined {
    return this.#timeout;
  }

  #makeHandlers(): FastHandlers {
    // Bound methods rather than closures: no context object or feedback cell per breaker.
    const epoch = this.#epoch;
    const handlers: FastHandlers = {
      onFulfilled: this.#fulfilled.bind(this, epoch),
      onRejected: this.#rejected.bind(this, epoch),
    };
    this.#handlers = handlers;
    return handlers;
  }

  #fulfilled(epoch: number, value: unknown): unknown {
    this.#onSuccess(NONE, epoch, false);
    return value;
  }

  #rejected(epoch: number, error: unknown): never {
    this.#onError(error, NONE, epoch, false);
    throw error;
  }

  /** Every other case: admission when not CLOSED, timing, a timeout, a signal that can abort. */
  async #runGuarded<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    const signal = context.signal;
    if (signal.aborted) throw abortError(signal);
    const probe = this.#state !== CircuitState.CLOSED && this.#admit();
    const epoch = this.#epoch;
    const start = this.#measure ? this.#clock.now() : NONE;
    let value: T;
    try {
      if (this.#timeout !== undefined) value = await this.#timeout.run(fn, context);
      else if (signal === NEVER_ABORTED) value = await fn(context);
      else {
        this.#queue ??= deadlineQueueFor(this.#clock);
        value = await runAbortable(fn, context, this.#queue);
      }
    } catch (error) {
      this.#onError(error, start, epoch, probe);
      throw error;
    }
    this.#onSuccess(start, epoch, probe);
    return value;
  }

  /** Current counters; see {@link CircuitBreakerStats}. */
  getStats(): CircuitBreakerStats {
    const state = this.state;
    const window = this.#window?.counts(this.#clock.now());
    return {
      state,
      isolated: this.#isolated,
      failureCount: window === undefined ? this.#failures : window.failures,
      successCount: this.#successes,
      windowCalls: window?.calls ?? 0,
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
      failureCount: state === CircuitState.CLOSED ? this.#failures : 0,
    };
  }

  /** Admission when not CLOSED: returns true (a probe) or throws CIRCUIT_OPEN. */
  #admit(): boolean {
    if (this.#state === CircuitState.OPEN) {
      if (this.#isolated || this.#clock.now() < this.#nextAttemptAt) throw this.#reject();
      this.#transition(CircuitState.HALF_OPEN, 'reset timeout elapsed');
    }
    if (this.#probes >= this.#halfOpenMax) throw this.#reject();
    this.#probes++;
    return true;
  }

  #reject(): ServiceError {
    this.#totalRejections++;
    const state = this.#state;
    const open = state === CircuitState.OPEN;
    const wait = open && !this.#isolated ? Math.max(0, this.#nextAttemptAt - this.#clock.now()) : undefined;
    const who = this.#service === undefined ? 'Circuit breaker' : `Circuit breaker for ${this.#service}`;
    // No stack trace: a rejection is a policy decision raised at full request rate during an
    // outage, and capturing a stack costs more than the rest of the rejection several times over.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const error = new ServiceError(
      ServiceErrorCode.CIRCUIT_OPEN,
      this.#isolated
        ? `${who} is isolated`
        : open
          ? `${who} is open`
          : `${who} is half-open and its probe slots are taken`,
      this.#service,
      { retryable: false, retryAfterMs: wait, metadata: { state } },
    );
    Error.stackTraceLimit = stackTraceLimit;
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
      if (slow) {
        this.#transition(CircuitState.OPEN, 'slow probe');
        return;
      }
      if (++this.#successes >= this.#successThreshold)
        this.#transition(CircuitState.CLOSED, 'probes succeeded');
      return;
    }
    if (this.#state !== CircuitState.CLOSED) return;
    if (this.#windowSpec !== undefined) {
      this.#failures = 0;
      this.#successes++;
      this.#record(slow ? SLOW : 0, now);
    } else if (slow) {
      // Without a window a slow call counts as a failure: the callee is in trouble.
      this.#failures++;
      this.#successes = 0;
      if (this.#failures >= this.#failureThreshold) this.#transition(CircuitState.OPEN, 'slow calls');
    } else {
      this.#failures = 0;
      this.#successes++;
    }
  }

  #onError(raw: unknown, start: number, epoch: number, probe: boolean): void {
    const error = ServiceError.from(raw);
    const sameEpoch = epoch === this.#epoch;
    if (!this.#isFailure(error, raw)) {
      this.#totalIgnored++;
      if (sameEpoch && probe) this.#probes--;
      return;
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
    if (!sameEpoch) return;
    if (probe) {
      this.#probes--;
      this.#failures++;
      this.#transition(CircuitState.OPEN, 'probe failed');
      return;
    }
    if (this.#state !== CircuitState.CLOSED) return;
    this.#successes = 0;
    this.#failures++;
    if (this.#windowSpec !== undefined) this.#record(slow ? FAILED | SLOW : FAILED, now);
    if (
      this.#state === CircuitState.CLOSED &&
      this.#failureThreshold !== NONE &&
      this.#failures >= this.#failureThreshold
    ) {
      this.#transition(CircuitState.OPEN, `${this.#failures} consecutive failures`);
    }
  }

  /** Records a CLOSED call in the window and opens the circuit if a rate is reached. */
  #record(flags: number, now: number): void {
    const spec = this.#windowSpec!;
    this.#window ??=
      spec.type === 'count' ? new CountWindow(spec.size) : new TimeWindow(spec.sizeMs, spec.buckets);
    this.#window.record(flags, now);
    const { calls, failures, slow } = this.#window.counts(now);
    if (calls < this.#minimumCalls) return;
    if (failures / calls >= this.#failureRate) {
      this.#transition(CircuitState.OPEN, `failure rate ${((failures / calls) * 100).toFixed(1)}%`);
    } else if (this.#slowMs !== NONE && slow / calls >= this.#slowRate) {
      this.#transition(CircuitState.OPEN, `slow call rate ${((slow / calls) * 100).toFixed(1)}%`);
    }
  }

  #transition(to: CircuitState, reason: string, force = false): void {
    const from = this.#state;
    if (from === to && !force) return;
    this.#state = to;
    this.#newEpoch();
    // An OPEN circuit keeps the failures that opened it, so getStats() explains the state.
    if (to !== CircuitState.OPEN) this.#failures = 0;
    this.#successes = 0;
    this.#probes = 0;
    if (to === CircuitState.OPEN) {
      this.#openedAt = this.#clock.now();
      this.#nextAttemptAt = this.#isolated ? Number.POSITIVE_INFINITY : this.#openedAt + this.#resetTimeoutMs;
      this.#logger.warn('circuit opened', { service: this.#service, reason });
    } else {
      this.#openedAt = NONE;
      this.#nextAttemptAt = NONE;
      if (to === CircuitState.CLOSED) {
        this.#window?.clear();
        this.#logger.info('circuit closed', { service: this.#service, reason });
      }
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
      this.#windowSpec?.type === 'time' ||
      (e !== undefined &&
        (e.hasListeners('success') || e.hasListeners('failure') || e.hasListeners('timeout')));
  }
}
