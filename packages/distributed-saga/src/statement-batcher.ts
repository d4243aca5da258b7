interface Queued<K, V> {
  key: K;
  resolve(value: V): void;
  reject(error: unknown): void;
}

/**
 * Lets many callers share one database statement: at most `maxInFlight` statements run at once,
 * and the keys submitted while they run all go into the next one (up to `maxBatch`). A lone
 * caller (the sequential case) gets a statement of its own at once, so nothing waits on a timer;
 * under load, n commands cost a few statements instead of n, which is what the database and the
 * socket writes of each query cost. `run` answers the keys of one statement, in their order.
 */
export class StatementBatcher<K, V> {
  readonly #run: (keys: K[]) => Promise<V[]>;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  #queue: Queued<K, V>[] = [];
  #inFlight = 0;

  constructor(run: (keys: K[]) => Promise<V[]>, maxInFlight: number, maxBatch: number) {
    this.#run = run;
    this.#maxInFlight = maxInFlight;
    this.#maxBatch = maxBatch;
  }

  /** Resolves with `key`'s answer from the statement that carries it; rejects with its error. */
  submit(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.#queue.push({ key, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.length <= this.#maxBatch ? this.#queue : this.#queue.slice(0, this.#maxBatch);
      this.#queue = batch === this.#queue ? [] : this.#queue.slice(this.#maxBatch);
      this.#inFlight++;
      this.#execute(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #execute(batch: Queued<K, V>[]): Promise<void> {
    try {
      const values = await this.#run(batch.map((q) => q.key));
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(values[i]!);
    } catch (error) {
      for (const q of batch) q.reject(error);
    }
  }
}
