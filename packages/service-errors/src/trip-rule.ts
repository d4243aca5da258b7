/**
 * When a CLOSED circuit opens: one rule per way of deciding (consecutive failures, a failure
 * rate or a slow-call rate over a window). The breaker owns the states; a rule only counts the
 * outcomes it is shown and says when they are enough.
 */
export interface TripRule {
  /**
   * Counts a finished call: `failed` when its error counts (see `isFailure`), `slow` when it
   * took `slowCallDurationMs` or more, `probe` when it ran in HALF_OPEN. Returns why the
   * circuit must open now, or undefined. Only outcomes of CLOSED calls open the circuit; the
   * breaker itself reopens on a failed probe.
   */
  record(failed: boolean, slow: boolean, probe: boolean, now: number): string | undefined;
  /** Failures held toward opening (`getStats().failureCount`). */
  failures(now: number): number;
  /** Calls held in the rule's window (0 for a rule without one). */
  calls(now: number): number;
  /** The circuit changed state: `closed` when it closed (or was reset), else it opened or half-opened. */
  changed(closed: boolean, open: boolean): void;
  /** Restores the failures of a persisted snapshot (a rule without such a count ignores it). */
  restore(failureCount: number): void;
}
