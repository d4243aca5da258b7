import { type CircuitBreakerSnapshot, CircuitState } from './circuit-state';
import type { Clock } from './clock';
import type { TripRule } from './trip-rule';

const NONE = -1;

/** What a {@link CircuitStateMachine} needs from the breaker's options. */
export interface StateMachineSettings {
  successThreshold: number;
  resetTimeoutMs: number;
  halfOpenMaxConcurrent: number;
  halfOpenMaxWaitMs: number;
  /** With a sliding window, a slow success is a success; without one it breaks the run of successes. */
  windowed: boolean;
}

/** Told of every transition (`from === to` for a forced one, such as `reset()` while CLOSED). */
export interface TransitionListener {
  transitioned(from: CircuitState, to: CircuitState, reason: string): void;
}

/**
 * The three states of a circuit and the moves between them: CLOSED until the trip rule says
 * open; OPEN until `resetTimeoutMs` has passed; then HALF_OPEN, admitting at most
 * `halfOpenMaxConcurrent` probes, closed by `successThreshold` successful probes, reopened by a
 * failed or slow one, or by probes that hold every slot for `halfOpenMaxWaitMs`.
 *
 * It holds no timer: time-driven moves are made when the next call (or a read) looks, as of
 * the clock reading it is given. Every transition starts a new epoch; an outcome reported
 * with an older epoch (a call admitted before the move) changes nothing.
 */
export class CircuitStateMachine {
  readonly #successThreshold: number;
  readonly #resetTimeoutMs: number;
  readonly #halfOpenMax: number;
  readonly #halfOpenMaxWaitMs: number;
  readonly #windowed: boolean;
  readonly #rule: TripRule;
  readonly #clock: Clock;
  readonly #listener: TransitionListener;
  #state: CircuitState = CircuitState.CLOSED;
  #epoch = 0;
  #isolated = false;
  /** Successes since the last failure (CLOSED) or successful probes (HALF_OPEN). */
  #successes = 0;
  #probes = 0;
  /** When the last probe was admitted (HALF_OPEN). */
  #lastProbeAt = NONE;
  #openedAt = NONE;
  #nextAttemptAt = NONE;

  constructor(settings: StateMachineSettings, rule: TripRule, clock: Clock, listener: TransitionListener) {
    // Copied rather than kept: one object less per breaker.
    this.#successThreshold = settings.successThreshold;
    this.#resetTimeoutMs = settings.resetTimeoutMs;
    this.#halfOpenMax = settings.halfOpenMaxConcurrent;
    this.#halfOpenMaxWaitMs = settings.halfOpenMaxWaitMs;
    this.#windowed = settings.windowed;
    this.#rule = rule;
    this.#clock = clock;
    this.#listener = listener;
  }

  /** The state as last moved, without looking at the clock (see {@link stateAt}). */
  get state(): CircuitState {
    return this.#state;
  }

  /** Bumped on every transition. */
  get epoch(): number {
    return this.#epoch;
  }

  get isolated(): boolean {
    return this.#isolated;
  }

  get successes(): number {
    return this.#successes;
  }

  get probes(): number {
    return this.#probes;
  }

  /** Failures the trip rule holds toward opening. */
  failures(now: number): number {
    return this.#rule.failures(now);
  }

  /** Calls in the trip rule's window. */
  calls(now: number): number {
    return this.#rule.calls(now);
  }

  /** The state as of `now`, after any move whose time has come. */
  stateAt(now: number): CircuitState {
    if (this.#state !== CircuitState.CLOSED) this.#advance(now);
    return this.#state;
  }

  /** When the next call probes an OPEN circuit; undefined unless OPEN and not isolated. */
  nextAttemptAt(): number | undefined {
    return this.#state === CircuitState.OPEN && !this.#isolated ? this.#nextAttemptAt : undefined;
  }

  /** Admission when not CLOSED: takes a probe slot, or returns false (the call is refused). */
  admitProbe(now: number): boolean {
    this.#advance(now);
    if (this.#state === CircuitState.OPEN || this.#probes >= this.#halfOpenMax) return false;
    this.#probes++;
    this.#lastProbeAt = now;
    return true;
  }

  /** A call admitted in `epoch` succeeded; `slow` if it took `slowCallDurationMs` or more. */
  succeeded(epoch: number, probe: boolean, slow: boolean, now: number): void {
    if (epoch !== this.#epoch) return;
    if (probe) {
      this.#probes--;
      if (slow) this.#transition(CircuitState.OPEN, 'slow probe');
      else if (++this.#successes >= this.#successThreshold) {
        this.#transition(CircuitState.CLOSED, 'probes succeeded');
      }
      return;
    }
    if (this.#state !== CircuitState.CLOSED) return;
    if (slow && !this.#windowed) this.#successes = 0;
    else this.#successes++;
    const reason = this.#rule.record(false, slow, false, now);
    if (reason !== undefined) this.#transition(CircuitState.OPEN, reason);
  }

  /** A call admitted in `epoch` failed with an error that counts. */
  failed(epoch: number, probe: boolean, slow: boolean, now: number): void {
    if (epoch !== this.#epoch) return;
    if (probe) {
      this.#probes--;
      this.#rule.record(true, slow, true, now);
      this.#transition(CircuitState.OPEN, 'probe failed');
      return;
    }
    if (this.#state !== CircuitState.CLOSED) return;
    this.#successes = 0;
    const reason = this.#rule.record(true, slow, false, now);
    if (reason !== undefined) this.#transition(CircuitState.OPEN, reason);
  }

  /** A call admitted in `epoch` failed with an error that does not count: its probe slot frees. */
  ignored(epoch: number, probe: boolean): void {
    if (probe && epoch === this.#epoch) this.#probes--;
  }

  /** Opens the circuit until {@link reset}. */
  isolate(): void {
    this.#isolated = true;
    if (this.#state === CircuitState.OPEN) {
      this.#nextAttemptAt = Number.POSITIVE_INFINITY;
      this.#epoch++;
    } else {
      this.#transition(CircuitState.OPEN, 'isolated');
    }
  }

  /** Closes the circuit and clears its counts, ending an isolation. */
  reset(): void {
    this.#isolated = false;
    this.#transition(CircuitState.CLOSED, 'reset', true);
  }

  /** What `toJSON()` persists, as of `now`. */
  snapshot(now: number): CircuitBreakerSnapshot {
    const state = this.stateAt(now);
    return {
      state,
      isolated: this.#isolated,
      openedAt: state === CircuitState.OPEN ? this.#openedAt : null,
      failureCount: state === CircuitState.CLOSED ? this.#rule.failures(now) : 0,
    };
  }

  /** Starts from a persisted snapshot (before any call). */
  restore(snapshot: CircuitBreakerSnapshot): void {
    this.#state = snapshot.state;
    this.#isolated = snapshot.isolated;
    if (snapshot.state === CircuitState.OPEN || snapshot.isolated) {
      this.#state = CircuitState.OPEN;
      this.#openedAt = snapshot.openedAt ?? this.#clock.now();
      this.#nextAttemptAt = this.#reopenAt(this.#openedAt);
    } else if (snapshot.state === CircuitState.CLOSED) {
      this.#rule.restore(snapshot.failureCount);
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

  #reopenAt(openedAt: number): number {
    return this.#isolated ? Number.POSITIVE_INFINITY : openedAt + this.#resetTimeoutMs;
  }

  /** `at`: when the move happened, if earlier than now (a lazily noticed probe wait). */
  #transition(to: CircuitState, reason: string, force = false, at?: number): void {
    const from = this.#state;
    if (from === to && !force) return;
    this.#state = to;
    this.#epoch++;
    this.#rule.changed(to === CircuitState.CLOSED, to === CircuitState.OPEN);
    this.#successes = 0;
    this.#probes = 0;
    this.#lastProbeAt = NONE;
    if (to === CircuitState.OPEN) {
      this.#openedAt = at ?? this.#clock.now();
      this.#nextAttemptAt = this.#reopenAt(this.#openedAt);
    } else {
      this.#openedAt = NONE;
      this.#nextAttemptAt = NONE;
    }
    this.#listener.transitioned(from, to, reason);
  }
}
