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
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) {
      this.#active++;
      return this.#start(task);
    }
    // The slot is handed over by the task that frees it (already counted in #active), so a task
    // arriving in between cannot take it and run one over the limit.
    return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(() => this.#start(task));
  }

  /** Runs `task` in a slot already taken. Plain promise callbacks, not an async function: per event. */
  #start<T>(task: () => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      running = task();
    } catch (error) {
      this.#release();
      return Promise.reject(error);
    }
    return running.then(
      (value) => {
        this.#release();
        return value;
      },
      (error: unknown) => {
        this.#release();
        throw error;
      },
    );
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) {
      next();
      return;
    }
    this.#active--;
    if (this.#active === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }

  /** Resolves once nothing runs and nothing waits. */
  whenIdle(): Promise<void> {
    if (this.#active === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
