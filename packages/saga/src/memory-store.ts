import { clockOption, intAtLeast } from '@clone/internal';
import { type Clock, parseOptions, systemClock } from '@clone/service-errors';
import { z } from 'zod';
import type { SagaRecord, SagaStore, SagaWrite } from './store';

interface Row {
  json: string;
  active: boolean;
  owner: string;
  leaseUntil: number;
}

const optionsSchema = z.strictObject({
  /** Finished sagas kept (oldest dropped first), so a long-running process does not grow forever. */
  maxFinished: intAtLeast(0).default(10_000),
  clock: clockOption<Clock>().optional(),
});

/** Options of {@link InMemorySagaStore}. */
export type InMemorySagaStoreOptions = z.input<typeof optionsSchema>;

/**
 * The default store: state in this process only, so it survives nothing, but it keeps the
 * store contract (snapshots, leases, fencing), which lets several orchestrators in one process
 * share it and lets tests exercise recovery without a database.
 */
export class InMemorySagaStore implements SagaStore {
  readonly #rows = new Map<string, Row>();
  /** Ids of finished sagas, oldest first. */
  readonly #finished = new Set<string>();
  readonly #clock: Clock;
  readonly #maxFinished: number;
  /** Writes accepted so far (for benchmarks and tests). */
  writes = 0;

  constructor(options: InMemorySagaStoreOptions = {}) {
    const o = parseOptions(optionsSchema, options, 'InMemorySagaStore');
    this.#clock = o.clock ?? systemClock;
    this.#maxFinished = o.maxFinished;
  }

  async init(): Promise<void> {}

  async write({ record, owner, leaseMs, create }: SagaWrite): Promise<boolean> {
    const existing = this.#rows.get(record.id);
    if (create ? existing !== undefined : existing?.owner !== owner) return false;
    const active = record.status === 'running' || record.status === 'compensating';
    this.#rows.set(record.id, {
      json: JSON.stringify(record),
      active,
      owner,
      leaseUntil: create ? this.#clock.now() + leaseMs : existing!.leaseUntil,
    });
    this.writes++;
    if (!active) {
      this.#finished.add(record.id);
      if (this.#finished.size > this.#maxFinished) {
        const oldest = this.#finished.values().next().value!;
        this.#finished.delete(oldest);
        this.#rows.delete(oldest);
      }
    }
    return true;
  }

  async load(id: string): Promise<SagaRecord | undefined> {
    const row = this.#rows.get(id);
    return row && (JSON.parse(row.json) as SagaRecord);
  }

  async claim(owner: string, leaseMs: number, limit: number): Promise<SagaRecord[]> {
    const now = this.#clock.now();
    const claimed: SagaRecord[] = [];
    for (const row of this.#rows.values()) {
      if (claimed.length >= limit) break;
      if (!row.active || row.leaseUntil > now) continue;
      row.owner = owner;
      row.leaseUntil = now + leaseMs;
      claimed.push(JSON.parse(row.json) as SagaRecord);
    }
    return claimed;
  }

  async renew(owner: string, ids: readonly string[], leaseMs: number): Promise<string[]> {
    const until = this.#clock.now() + leaseMs;
    return ids.filter((id) => {
      const row = this.#rows.get(id);
      if (row?.owner !== owner || !row.active) return false;
      row.leaseUntil = until;
      return true;
    });
  }

  async release(owner: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const row = this.#rows.get(id);
      if (row?.owner === owner) row.leaseUntil = 0;
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
