import type { SagaHealth, SagaInstance } from './orchestrator-types';

/**
 * What an orchestrator remembers of the sagas it ran: the last `limit` finished ones (by id,
 * oldest dropped first) and how many sagas ended each way.
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
  readonly #finished = new Map<string, SagaInstance>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Records a finished saga and counts how it ended. */
  add(instance: SagaInstance): void {
    const status = instance.status;
    if (status === 'completed' || status === 'compensated' || status === 'failed') this.totals[status]++;
    if (this.#limit === 0) return;
    this.#finished.delete(instance.id);
    this.#finished.set(instance.id, instance);
    if (this.#finished.size > this.#limit) this.#finished.delete(this.#finished.keys().next().value!);
  }

  get(id: string): SagaInstance | undefined {
    return this.#finished.get(id);
  }

  /** Finished sagas, oldest first. */
  list(): SagaInstance[] {
    return [...this.#finished.values()];
  }
}
