import type { CircuitBreakerEvents, CircuitBreakerStats } from './circuit-breaker-options';
import { circuitOpenError } from './circuit-open-error';
import { CircuitState } from './circuit-state';
import {
  CircuitStateMachine,
  type StateMachineSettings,
  type TransitionListener,
} from './circuit-state-machine';
import type { Clock } from './clock';
import { Emitter, type Listener, type Unsubscribe } from './emitter';
import { ServiceErrorCode } from './error-code';
import type { Logger } from './logger';
import { ServiceError } from './service-error';
import type { TripRule } from './trip-rule';
import { hookFailed, observerThrew } from './user-hook';

/** `start` of a call that was not timed. */
export const UNTIMED = -1;

/** What a {@link CircuitRecorder} needs from the breaker's options. */
export interface RecorderSettings {
  service: string | undefined;
  isFailure: (error: ServiceError, raw: unknown) => boolean;
  /** A call taking this long (ms) is slow; undefined when slow calls are not tracked. */
  slowCallDurationMs: number | undefined;
  /** A time window needs every call's clock reading. */
  timedWindow: boolean;
}

/** The totals of {@link CircuitBreakerStats}. */
export type CircuitTotals = Pick<
  CircuitBreakerStats,
  | 'lastFailureTime'
  | 'totalSuccesses'
  | 'totalFailures'
  | 'totalIgnored'
  | 'totalRejections'
  | 'totalTimeouts'
>;

/**
 * A breaker's bookkeeping of each call: classifies its outcome (`isFailure`, slow or not),
 * keeps the totals, emits the events and reports what counts to the state machine, whose
 * transitions it logs and emits in turn. The breaker runs calls; this decides what they mean.
 */
export class CircuitRecorder implements TransitionListener {
  /** The states, fed by this recorder. */
  readonly machine: CircuitStateMachine;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #service: string | undefined;
  readonly #isFailure: (error: ServiceError, raw: unknown) => boolean;
  readonly #slowMs: number;
  readonly #timedWindow: boolean;
  #events: Emitter<CircuitBreakerEvents> | undefined;
  /** Whether calls must be timed: slow-call tracking, a time window or a listener. */
  #measure: boolean;
  #lastFailureTime = UNTIMED;
  #totalSuccesses = 0;
  #totalFailures = 0;
  #totalIgnored = 0;
  #totalRejections = 0;
  #totalTimeouts = 0;

  constructor(
    states: StateMachineSettings,
    rule: TripRule,
    clock: Clock,
    logger: Logger,
    settings: RecorderSettings,
  ) {
    this.machine = new CircuitStateMachine(states, rule, clock, this);
    this.#logger = logger;
    this.#clock = clock;
    this.#service = settings.service;
    this.#isFailure = settings.isFailure;
    this.#slowMs = settings.slowCallDurationMs ?? UNTIMED;
    this.#timedWindow = settings.timedWindow;
    this.#measure = this.#slowMs !== UNTIMED || this.#timedWindow;
  }

  /**
   * Whether a call must be timed (its start read from the clock) for its outcome to be
   * recorded: slow-call tracking, a time window, or a listener told each call's duration.
   */
  get measure(): boolean {
    return this.#measure;
  }

  /** The events; see {@link CircuitBreakerEvents}. */
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

  /**
   * Logs and emits a transition. A user logger that throws must not change what the caller
   * receives nor leave the move half-reported: the machine has already moved, so its error
   * becomes a process warning, as a throwing event listener's does.
   */
  transitioned(from: CircuitState, to: CircuitState, reason: string): void {
    try {
      const fields = { service: this.#service, reason };
      if (to === CircuitState.OPEN) this.#logger.warn('circuit opened', fields);
      else if (to === CircuitState.CLOSED) this.#logger.info('circuit closed', fields);
    } catch (error) {
      observerThrew('CircuitBreaker', error);
    }
    if (from !== to) this.#events?.emit('stateChange', { from, to, reason });
  }

  /** A call refused at admission: counts it and returns the CIRCUIT_OPEN error for the caller. */
  rejected(now: number): ServiceError {
    this.#totalRejections++;
    const machine = this.machine;
    const state = machine.state;
    const next = machine.nextAttemptAt();
    const error = circuitOpenError(
      this.#service,
      state,
      machine.isolated,
      next === undefined ? undefined : Math.max(0, next - now),
    );
    this.#events?.emit('rejected', { error, state });
    return error;
  }

  /** A call started at `start` (or UNTIMED) in `epoch` succeeded. */
  succeeded(start: number, epoch: number, probe: boolean): void {
    this.#totalSuccesses++;
    let slow = false;
    let now = 0;
    if (this.#measure) {
      now = this.#clock.now();
      const durationMs = start === UNTIMED ? 0 : now - start;
      slow = this.#slowMs !== UNTIMED && durationMs >= this.#slowMs;
      this.#events?.emit('success', { durationMs, slow });
    }
    this.machine.succeeded(epoch, probe, slow, now);
  }

  /**
   * A call failed with `raw`: returns what the caller receives, the value itself unless
   * `isFailure` threw (then an INTERNAL_ERROR with the hook's error as cause, and the call
   * counts as a failure: it did fail). Never throws for any `raw`: `ServiceError.from`
   * normalises anything thrown.
   */
  failed(raw: unknown, start: number, epoch: number, probe: boolean): unknown {
    const error = ServiceError.from(raw);
    let thrown: unknown = raw;
    let counts: boolean;
    try {
      counts = Boolean(this.#isFailure(error, raw));
    } catch (hookError) {
      thrown = hookFailed('CircuitBreaker', 'isFailure', hookError, error, this.#service);
      counts = true;
    }
    if (!counts) {
      this.#totalIgnored++;
      this.machine.ignored(epoch, probe);
      return thrown;
    }
    const now = this.#clock.now();
    const durationMs = start === UNTIMED ? 0 : now - start;
    const slow = this.#slowMs !== UNTIMED && durationMs >= this.#slowMs;
    this.#totalFailures++;
    this.#lastFailureTime = now;
    if (error.code === ServiceErrorCode.TIMEOUT) {
      this.#totalTimeouts++;
      this.#events?.emit('timeout', { error, durationMs });
    }
    this.#events?.emit('failure', { error, durationMs, slow });
    this.machine.failed(epoch, probe, slow, now);
    return thrown;
  }

  /** The totals, for `getStats()`. */
  totals(): CircuitTotals {
    return {
      lastFailureTime: this.#lastFailureTime === UNTIMED ? undefined : this.#lastFailureTime,
      totalSuccesses: this.#totalSuccesses,
      totalFailures: this.#totalFailures,
      totalIgnored: this.#totalIgnored,
      totalRejections: this.#totalRejections,
      totalTimeouts: this.#totalTimeouts,
    };
  }

  #updateMeasure(): void {
    const e = this.#events;
    this.#measure =
      this.#slowMs !== UNTIMED ||
      this.#timedWindow ||
      (e !== undefined &&
        (e.hasListeners('success') || e.hasListeners('failure') || e.hasListeners('timeout')));
  }
}
