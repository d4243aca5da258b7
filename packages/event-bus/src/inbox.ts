/**
 * Where a consumer remembers the events it has handled, so a redelivered or republished event
 * (at-least-once delivery) runs its handler once. Keys are `queue:eventId`.
 */
export interface Inbox {
  /** Whether `key` was handled. */
  has(key: string): boolean | Promise<boolean>;
  /** Records `key` as handled. */
  add(key: string): void | Promise<void>;
}

/**
 * The default inbox: the last `capacity` handled keys in memory, oldest forgotten first. It
 * absorbs the duplicates at-least-once delivery produces (a redelivery after a reconnect, a
 * republish after a lost confirm), which arrive close together; it is per process, so a duplicate
 * that reaches another instance is not caught (use a shared inbox for that).
 */
export class MemoryInbox implements Inbox {
  readonly #capacity: number;
  readonly #keys = new Set<string>();
  // The keys in the order they were added, as a ring: the slot written next holds the oldest key.
  // Finding the oldest through the Set's iterator instead walks past every deleted entry the Set
  // has not compacted yet, which grows with the capacity and made each add cost microseconds.
  readonly #order: (string | undefined)[] = [];
  #next = 0;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    if (this.#keys.has(key)) return;
    const oldest = this.#order[this.#next];
    if (oldest !== undefined) this.#keys.delete(oldest);
    this.#order[this.#next] = key;
    this.#next = (this.#next + 1) % this.#capacity;
    this.#keys.add(key);
  }

  /** How many keys it holds (at most its capacity). */
  get size(): number {
    return this.#keys.size;
  }
}
