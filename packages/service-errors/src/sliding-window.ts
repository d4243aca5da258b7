/** Outcome flags recorded per call. */
export const FAILED = 1;
export const SLOW = 2;

/** Counts over the recent calls a circuit breaker decides on. */
export interface SlidingWindow {
  record(flags: number, now: number): void;
  /** Calls, failures and slow calls currently in the window. */
  counts(now: number): { calls: number; failures: number; slow: number };
  clear(): void;
}

/**
 * The last `size` calls, as a ring of one byte per call: 100 calls cost 100 bytes, allocated
 * only when the first call is recorded.
 */
export class CountWindow implements SlidingWindow {
  readonly #ring: Uint8Array;
  #next = 0;
  #calls = 0;
  #failures = 0;
  #slow = 0;

  constructor(size: number) {
    this.#ring = new Uint8Array(size);
  }

  record(flags: number): void {
    const ring = this.#ring;
    if (this.#calls === ring.length) {
      const old = ring[this.#next]!;
      this.#failures -= old & FAILED;
      this.#slow -= (old & SLOW) >> 1;
    } else {
      this.#calls++;
    }
    ring[this.#next] = flags;
    this.#failures += flags & FAILED;
    this.#slow += (flags & SLOW) >> 1;
    this.#next = this.#next + 1 === ring.length ? 0 : this.#next + 1;
  }

  counts(): { calls: number; failures: number; slow: number } {
    return { calls: this.#calls, failures: this.#failures, slow: this.#slow };
  }

  clear(): void {
    this.#ring.fill(0);
    this.#next = 0;
    this.#calls = 0;
    this.#failures = 0;
    this.#slow = 0;
  }
}

/**
 * The calls of the last `sizeMs`, in `buckets` equal buckets (three counters and an epoch
 * each, in typed arrays): a bucket older than the window is cleared when time reaches it.
 */
export class TimeWindow implements SlidingWindow {
  readonly #bucketMs: number;
  readonly #epochs: Float64Array;
  /** calls, failures, slow: three Uint32 per bucket. */
  readonly #counters: Uint32Array;
  #calls = 0;
  #failures = 0;
  #slow = 0;

  constructor(sizeMs: number, buckets: number) {
    this.#bucketMs = sizeMs / buckets;
    this.#epochs = new Float64Array(buckets).fill(-1);
    this.#counters = new Uint32Array(buckets * 3);
  }

  record(flags: number, now: number): void {
    const slot = this.#advance(now);
    const c = this.#counters;
    c[slot * 3]!++;
    this.#calls++;
    if (flags & FAILED) {
      c[slot * 3 + 1]!++;
      this.#failures++;
    }
    if (flags & SLOW) {
      c[slot * 3 + 2]!++;
      this.#slow++;
    }
  }

  counts(now: number): { calls: number; failures: number; slow: number } {
    this.#advance(now);
    return { calls: this.#calls, failures: this.#failures, slow: this.#slow };
  }

  clear(): void {
    this.#epochs.fill(-1);
    this.#counters.fill(0);
    this.#calls = 0;
    this.#failures = 0;
    this.#slow = 0;
  }

  /** Drops buckets that fell out of the window; returns the slot of the current bucket. */
  #advance(now: number): number {
    const epoch = Math.floor(now / this.#bucketMs);
    const epochs = this.#epochs;
    const n = epochs.length;
    const c = this.#counters;
    for (let slot = 0; slot < n; slot++) {
      const e = epochs[slot]!;
      if (e !== -1 && e <= epoch - n) {
        this.#calls -= c[slot * 3]!;
        this.#failures -= c[slot * 3 + 1]!;
        this.#slow -= c[slot * 3 + 2]!;
        c[slot * 3] = 0;
        c[slot * 3 + 1] = 0;
        c[slot * 3 + 2] = 0;
        epochs[slot] = -1;
      }
    }
    const slot = epoch % n;
    if (epochs[slot] !== epoch) {
      // Only a clock that went back by a whole window leaves another epoch here.
      this.#calls -= c[slot * 3]!;
      this.#failures -= c[slot * 3 + 1]!;
      this.#slow -= c[slot * 3 + 2]!;
      c[slot * 3] = 0;
      c[slot * 3 + 1] = 0;
      c[slot * 3 + 2] = 0;
      epochs[slot] = epoch;
    }
    return slot;
  }
}
