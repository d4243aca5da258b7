/**
 * Counts over the recent calls a rate rule decides on: how many calls, and how many of them
 * were hits (failures, or slow calls).
 */
export interface SlidingWindow {
  record(hit: boolean, now: number): void;
  /** Calls in the window. */
  calls(now: number): number;
  /** Hits in the window. */
  hits(now: number): number;
  clear(): void;
}
