import type { Clock } from '@clone/service-errors';

/** A timer the manual clock holds. */
export interface ManualTimer {
  fn: () => void;
  at: number;
  ms: number;
  unref: boolean;
}

/**
 * A clock whose time moves only when the test says so: `advance(ms)` fires, in order, the
 * timers due by then. `timers` are the ones pending, so a test can see what is scheduled.
 */
export class ManualClock implements Clock {
  nowMs = 1_000_000;
  readonly timers = new Set<ManualTimer>();

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, ms: number, unref = false): ManualTimer {
    const timer = { fn, at: this.nowMs + ms, ms, unref };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as ManualTimer);
  }

  /** Pending timers of exactly `ms`. */
  pending(ms: number): ManualTimer[] {
    return [...this.timers].filter((t) => t.ms === ms);
  }

  /** Moves time on by `ms`, firing due timers (and those they schedule) in time order. */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers.delete(due);
      this.nowMs = Math.max(this.nowMs, due.at);
      due.fn();
    }
    this.nowMs = end;
  }
}
