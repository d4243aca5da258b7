/**
 * Runs at most `limit` tasks at once; others wait their turn in order. Used per subscription, so
 * `concurrency` means the same on every transport.
 */
export class ConcurrencyGate {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #idle: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Whether a task given now would start at once. */
  get hasCapacity(): boolean {
    return this.#active < this.#limit;
  }

  /** Runs `task` when a slot is free; resolves or rejects with it. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else if (this.#active === 0) {
        const idle = this.#idle;
        this.#idle = [];
        for (const resolve of idle) resolve();
      }
    }
  }

  /** Resolves once nothing runs and nothing waits. */
  whenIdle(): Promise<void> {
    if (this.#active === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
