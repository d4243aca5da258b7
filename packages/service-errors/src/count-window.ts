import type { SlidingWindow } from './sliding-window';

/**
 * The last `size` calls, as a ring of one byte per call: 100 calls cost 100 bytes, allocated
 * only when the first call is recorded.
 */
export class CountWindow implements SlidingWindow {
  readonly #size: number;
  #ring: Uint8Array | undefined;
  #next = 0;
  #calls = 0;
  #hits = 0;

  constructor(size: number) {
    this.#size = size;
  }

  record(hit: boolean): void {
    this.#ring ??= new Uint8Array(this.#size);
    const ring = this.#ring;
    if (this.#calls === ring.length) this.#hits -= ring[this.#next]!;
    else this.#calls++;
    const flag = hit ? 1 : 0;
    ring[this.#next] = flag;
    this.#hits += flag;
    this.#next = this.#next + 1 === ring.length ? 0 : this.#next + 1;
  }

  calls(): number {
    return this.#calls;
  }

  hits(): number {
    return this.#hits;
  }

  clear(): void {
    this.#ring?.fill(0);
    this.#next = 0;
    this.#calls = 0;
    this.#hits = 0;
  }
}
