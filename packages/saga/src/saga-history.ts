import type { Clock } from '@clone/service-errors';
import type { SagaHealth, SagaInstance } from './orchestrator-types';

/** How long an orchestrator remembers finished sagas. */
export interface HistoryOptions {
  /** Finished sagas kept at most; the oldest is dropped first. */
  limit: number;
  /** How long a finished saga is kept after it finished. */
  retentionMs: number;
  /** How often sagas past `retentionMs` are removed; 0 = never (only `limit` bounds them). */
  cleanupIntervalMs: number;
  clock: Clock;
}

interface Entry {
  instance: SagaInstance;
  finishedAt: number;
}

/**
 * What an orchestrator remembers of the sagas it ran: the finished ones (by id, oldest first),
 * bounded by count and, through a periodic cleanup, by age, so a long-running process does not
 * keep every saga it ever ran; and how many sagas ended each way. The cleanup timer runs only
 * while something is remembered, is unref'd, and ends with `stop()`.
 */
export class SagaHistory {
  readonly totals: SagaHealth['totals'] = {
    started: 0,
    recovered: 0,
    completed: 0,
    compensated: 0,
    failed: 0,
    suspended: 0,
  };
  readonly #finished = new Map<string, Entry>();
  readonly #options: HistoryOptions;
  #timer: unknown;
  #stopped = false;

  constructor(options: HistoryOptions) {
    this.#options = options;
  }

  /** Records a finished saga and counts how it ended. */
  add(instance: SagaInstance): void {
    const status = instance.status;
    if (status === 'completed' || status === 'compensated' || status === 'failed') this.totals[status]++;
    if (this.#options.limit === 0) return;
    this.#finished.delete(instance.id);
    this.#finished.set(instance.id, { instance, finishedAt: this.#options.clock.now() });
    if (this.#finished.size > this.#options.limit) this.#finished.delete(this.#finished.keys().next().value!);
    this.#schedule();
  }

  /** A finished saga still remembered. */
  get(id: string): SagaInstance | undefined {
    return this.#finished.get(id)?.instance;
  }

  /** Finished sagas, oldest first. */
  list(): SagaInstance[] {
    return [...this.#finished.values()].map((e) => e.instance);
  }

  /** Stops the cleanup (what is remembered stays readable). */
  stop(): void {
    this.#stopped = true;
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const { cleanupIntervalMs, clock } = this.#options;
    if (this.#timer !== undefined || this.#stopped || cleanupIntervalMs === 0) return;
    this.#timer = clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#removeExpired();
        if (this.#finished.size > 0) this.#schedule();
      },
      cleanupIntervalMs,
      true,
    );
  }

  /** Entries are in the order they finished, so the expired ones are a prefix: O(removed). */
  #removeExpired(): void {
    const oldest = this.#options.clock.now() - this.#options.retentionMs;
    for (const [id, entry] of this.#finished) {
      if (entry.finishedAt > oldest) return;
      this.#finished.delete(id);
    }
  }
}
