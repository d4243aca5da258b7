import type { Clock, TimerHandle } from './clock';

/** Something that must happen at `deadline` unless removed first. */
export interface DeadlineEntry {
  /** Absolute time, in the queue clock's milliseconds. */
  readonly deadline: number;
  /** Position in the heap; -1 when not queued. Owned by the queue. */
  heapIndex: number;
  expire(): void;
}

/** Resolution of the shared clock while calls flow, in ms. */
const TICK_MS = 1;

/**
 * Every pending deadline of one clock, in a binary min-heap, behind one timer.
 *
 * Measured here, reading the clock (`Date.now()`) costs more than the rest of a guarded call,
 * and a `setTimeout` + `clearTimeout` pair per call several times that. So while calls flow, a
 * 1 ms ticker reads the clock once per tick, `now()` returns that reading, and each tick
 * expires what is due: a call pays for neither a clock read nor a timer. This is the precision
 * of Node's own timers, which also start from the event loop's cached time. When a tick finds
 * no call has asked for the time since the last one, the ticker stops, leaving at most one
 * timer armed for the earliest pending deadline, and none once nothing is pending: an idle
 * process wakes for nothing. The timer keeps the process alive only while a deadline is
 * pending (a timeout must fire even if the operation holds no handle); otherwise it is
 * unref'd. A call that finishes in time costs a heap push and a removal (O(1) when calls
 * finish in order, the common case).
 */
export class DeadlineQueue {
  readonly #clock: Clock;
  readonly #heap: DeadlineEntry[] = [];
  #timer: TimerHandle | undefined;
  /** Whether the armed timer keeps the process alive: only while a finite deadline is pending. */
  #refd = false;
  #ticking = false;
  /** Clock reading of the last tick; valid while ticking. */
  #tickNow = 0;
  /** Whether `now()` was called since the last tick. */
  #used = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of pending deadlines. */
  get size(): number {
    return this.#heap.length;
  }

  /** Whether a timer is armed (for tests and the idle-timer benchmark). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** The current time: the last tick's reading while ticking, else a fresh reading (which starts the ticker). */
  now(): number {
    this.#used = true;
    if (this.#ticking) return this.#tickNow;
    const now = this.#clock.now();
    this.#tickNow = now;
    this.#ticking = true;
    this.#arm(TICK_MS);
    return now;
  }

  add(entry: DeadlineEntry): void {
    const heap = this.#heap;
    entry.heapIndex = heap.length;
    heap.push(entry);
    this.#up(entry.heapIndex);
    if (entry.deadline === Number.POSITIVE_INFINITY) return;
    // While ticking every tick checks the heap; asleep, the timer must cover the earliest entry.
    if (!this.#ticking && entry.heapIndex === 0) this.#arm(entry.deadline - this.#clock.now());
    else if (!this.#refd && this.#timer !== undefined) {
      // A pending deadline must fire even if nothing else keeps the process alive. At most once
      // per tick: the timer goes back to unref'd only at a tick that finds no deadline pending.
      (this.#timer as { ref?: () => void }).ref?.();
      this.#refd = true;
    }
  }

  remove(entry: DeadlineEntry): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    entry.heapIndex = -1;
    const heap = this.#heap;
    const last = heap.pop()!;
    if (last !== entry) {
      heap[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
    // Asleep, the armed timer may be a long one for a deadline no longer pending: it must not
    // hold the process. (While ticking, the next tick re-arms it unref'd within a millisecond.)
    if (
      !this.#ticking &&
      this.#refd &&
      (heap.length === 0 || heap[0]!.deadline === Number.POSITIVE_INFINITY)
    ) {
      (this.#timer as { unref?: () => void } | undefined)?.unref?.();
      this.#refd = false;
    }
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    const first = this.#heap[0];
    this.#refd = first !== undefined && first.deadline !== Number.POSITIVE_INFINITY;
    this.#timer = this.#clock.setTimeout(this.#tick, Math.max(TICK_MS, ms), !this.#refd);
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const now = this.#clock.now();
    this.#tickNow = now;
    const heap = this.#heap;
    // Pop before expiring: an expiry may run user code (abort listeners) that adds entries.
    while (heap.length > 0 && heap[0]!.deadline <= now) {
      const first = heap[0]!;
      this.remove(first);
      first.expire();
    }
    if (this.#used) {
      this.#used = false;
      if (this.#timer === undefined) this.#arm(TICK_MS);
      return;
    }
    this.#ticking = false;
    const next = heap[0];
    if (next !== undefined && next.deadline !== Number.POSITIVE_INFINITY && this.#timer === undefined) {
      this.#arm(next.deadline - now);
    }
  };

  #up(i: number): void {
    const heap = this.#heap;
    const entry = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.deadline <= entry.deadline) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1]!.deadline < heap[c]!.deadline) c++;
      const child = heap[c]!;
      if (entry.deadline <= child.deadline) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }
}

const queues = new WeakMap<Clock, DeadlineQueue>();

/** The one deadline queue of `clock`, shared by every policy using that clock. */
export function deadlineQueueFor(clock: Clock): DeadlineQueue {
  let queue = queues.get(clock);
  if (queue === undefined) {
    queue = new DeadlineQueue(clock);
    queues.set(clock, queue);
  }
  return queue;
}
