import type { z } from 'zod';
import type { circuitBreakerOptionsSchema } from './circuit-breaker-options';
import { ConsecutiveFailures } from './consecutive-failures';
import { CountWindow } from './count-window';
import { RateRule } from './rate-rule';
import type { SlidingWindow } from './sliding-window';
import { TimeWindow } from './time-window';
import type { TripRule } from './trip-rule';

type Parsed = z.output<typeof circuitBreakerOptionsSchema>;

/**
 * The rule a breaker's options ask for: the consecutive rule alone without a window (default
 * threshold 5), the commonest case and one small object; with a window, the failure rate, the
 * slow-call rate if `slowCallDurationMs` is set, and the consecutive rule if `failureThreshold`
 * is set, consulted in that order: the first that says "open" opens the circuit.
 */
export function tripRuleFor(o: Parsed): TripRule {
  const spec = o.slidingWindow;
  if (spec === undefined) return new ConsecutiveFailures(o.failureThreshold ?? 5, true);
  const window = (): SlidingWindow =>
    spec.type === 'count' ? new CountWindow(spec.size) : new TimeWindow(spec.sizeMs, spec.buckets);
  const rules: TripRule[] = [new RateRule('failure', window(), o.failureRateThreshold, o.minimumCalls)];
  if (o.slowCallDurationMs !== undefined) {
    rules.push(new RateRule('slow call', window(), o.slowCallRateThreshold, o.minimumCalls));
  }
  if (o.failureThreshold !== undefined) rules.push(new ConsecutiveFailures(o.failureThreshold, false));
  return new AnyOfRules(rules);
}

/** Several rules as one; the first (the failure rate) reports `failureCount` and the window's calls. */
class AnyOfRules implements TripRule {
  readonly #rules: readonly TripRule[];

  constructor(rules: readonly TripRule[]) {
    this.#rules = rules;
  }

  record(failed: boolean, slow: boolean, probe: boolean, now: number): string | undefined {
    let reason: string | undefined;
    for (const rule of this.#rules) {
      // Every rule counts the outcome, even once an earlier one decided.
      const why = rule.record(failed, slow, probe, now);
      if (reason === undefined) reason = why;
    }
    return reason;
  }

  failures(now: number): number {
    return this.#rules[0]!.failures(now);
  }

  calls(now: number): number {
    return this.#rules[0]!.calls(now);
  }

  changed(closed: boolean, open: boolean): void {
    for (const rule of this.#rules) rule.changed(closed, open);
  }

  restore(failureCount: number): void {
    for (const rule of this.#rules) rule.restore(failureCount);
  }
}
