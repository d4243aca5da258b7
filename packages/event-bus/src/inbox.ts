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
  // A Set iterates in insertion order: its first key is the oldest.
  readonly #keys = new Set<string>();

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    if (this.#keys.size > this.#capacity) {
      const oldest = this.#keys.values().next().value as string;
      this.#keys.delete(oldest);
    }
  }

  /** How many keys it holds (at most its capacity). */
  get size(): number {
    return this.#keys.size;
  }
}
