/** Shared by this package's tests only (excluded from the published files). */
import type { Clock } from './clock';
import { isServiceError, type ServiceError } from './service-error';

/**
 * The system clock (`Date.now()`, `setTimeout`) as a clock object of its own: with
 * `vi.useFakeTimers()` it follows vi's fake time, and being a separate object it gets its own
 * deadline queue, so a queue left ticking by another test never interferes. Not a fake by
 * itself: see {@link manualClock} for one.
 */
export function globalTimersClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms, unref) => {
      const h = setTimeout(fn, ms);
      if (unref) h.unref?.();
      return h;
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}

/** A fake clock: time stands still until `advance(ms)`, which runs the timers it passes, in order. */
export function manualClock(start = 0) {
  let now = start;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 0;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = timers[0];
      if (next === undefined || next.at > end) break;
      timers.shift();
      now = next.at;
      next.fn();
    }
    now = end;
  };
  return { clock, advance, pending: () => timers.length };
}

/** The ServiceError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    if (isServiceError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
