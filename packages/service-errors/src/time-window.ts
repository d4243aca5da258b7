import type { SlidingWindow } from './sliding-window';

/**
 * The calls of the last `sizeMs`, in `buckets` equal buckets (two counters and an epoch each,
 * in typed arrays allocated on the first call): a bucket older than the window is cleared when
 * time reaches it.
 */
export class TimeWindow implements SlidingWindow {
  readonly #bucketMs: number;
  readonly #buckets: number;
  #epochs: Float64Array | undefined;
  /** calls, hits: two Uint32 per bucket. */
  #counters: Uint32Array | undefined;
  #calls = 0;
  #hits = 0;

  constructor(sizeMs: number, buckets: number) {
    this.#bucketMs = sizeMs / buckets;
    this.#buckets = buckets;
  }

  record(hit: boolean, now: number): void {
    const slot = this.#advance(now);
    const c = this.#counters!;
    c[slot * 2]!++;
    this.#calls++;
    if (hit) {
      c[slot * 2 + 1]!++;
      this.#hits++;
    }
  }

  calls(now: number): number {
    if (this.#epochs !== undefined) this.#advance(now);
    return this.#calls;
  }

  hits(now: number): number {
    if (this.#epochs !== undefined) this.#advance(now);
    return this.#hits;
  }

  clear(): void {
    this.#epochs?.fill(-1);
    this.#counters?.fill(0);
    this.#calls = 0;
    this.#hits = 0;
  }

  /** Drops buckets that fell out of the window; returns the slot of the current bucket. */
  #advance(now: number): number {
    const n = this.#buckets;
    this.#epochs ??= new Float64Array(n).fill(-1);
    this.#counters ??= new Uint32Array(n * 2);
    const epochs = this.#epochs;
    const c = this.#counters;
    const epoch = Math.floor(now / this.#bucketMs);
    for (let slot = 0; slot < n; slot++) {
      const e = epochs[slot]!;
      if (e !== -1 && e <= epoch - n) this.#drop(slot, c, epochs);
    }
    const slot = epoch % n;
    if (epochs[slot] !== epoch) {
      // Only a clock that went back by a whole window leaves another epoch here.
      this.#drop(slot, c, epochs);
      epochs[slot] = epoch;
    }
    return slot;
  }

  #drop(slot: number, c: Uint32Array, epochs: Float64Array): void {
    this.#calls -= c[slot * 2]!;
    this.#hits -= c[slot * 2 + 1]!;
    c[slot * 2] = 0;
    c[slot * 2 + 1] = 0;
    epochs[slot] = -1;
  }
}
