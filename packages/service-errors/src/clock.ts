/** An opaque timer handle, as returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time, injected. Policies read the clock instead of `Date.now()` and schedule through it, so
 * tests drive them with fake timers or a manual clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Schedules `fn` after `ms`; the timer must not keep the process alive if `unref` is true. */
  setTimeout(fn: () => void, ms: number, unref?: boolean): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Globals are looked up at call time, not captured, so `vi.useFakeTimers()`
 * installed after import still takes effect.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms, unref) => {
    const handle = setTimeout(fn, ms);
    if (unref) (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};
