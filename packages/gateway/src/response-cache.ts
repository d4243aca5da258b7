/** A response kept for stale-if-error answers. */
export interface CachedResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  /** Gateway clock ms when it was stored. */
  readonly storedAt: number;
}

/** Bounds of a {@link ResponseCache}. */
export interface ResponseCacheLimits {
  /** Entries kept at most; the least recently used go first. */
  maxEntries: number;
  /** A response larger than this is never kept (it is streamed through, not buffered). */
  maxEntryBytes: number;
  /** Bytes of bodies kept at most, all entries together. */
  maxTotalBytes: number;
  /** How old an entry may be and still be served when the service is down. */
  maxStaleMs: number;
}

/**
 * The last good responses of GET requests, bounded by count and bytes (LRU), answered only
 * when the service cannot answer: a degraded-mode copy, not an HTTP cache (nothing is served
 * from it while the service works). @internal
 */
export class ResponseCache {
  readonly #limits: ResponseCacheLimits;
  readonly #entries = new Map<string, CachedResponse>();
  #bytes = 0;

  constructor(limits: ResponseCacheLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get maxEntryBytes(): number {
    return this.#limits.maxEntryBytes;
  }

  /** The entry of `key` if it is young enough, refreshed as most recently used. */
  get(key: string, now: number): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.storedAt > this.#limits.maxStaleMs) {
      this.#delete(key, entry);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** Keeps `entry` under `key`, evicting the least recently used past the bounds. */
  set(key: string, entry: CachedResponse): void {
    if (entry.body.length > this.#limits.maxEntryBytes) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#delete(key, old);
    this.#entries.set(key, entry);
    this.#bytes += entry.body.length;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxEntries && this.#bytes <= this.#limits.maxTotalBytes) break;
      this.#delete(k, e);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #delete(key: string, entry: CachedResponse): void {
    this.#entries.delete(key);
    this.#bytes -= entry.body.length;
  }
}
