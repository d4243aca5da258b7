import type { ServiceKey } from './key-set';
import type { ServiceTokenPayload } from './payload';

interface Entry {
  readonly payload: ServiceTokenPayload;
  readonly key: ServiceKey;
  /** The token's `exp` in ms: the entry is dead from this instant on. */
  readonly expiresAtMs: number;
}

/**
 * Verified payloads by token string, so a caller that sends the same token on every call pays
 * one map lookup instead of a signature check. Only tokens that passed full verification get
 * in. Bounded: when full, the oldest insertion goes first (tokens are inserted roughly in
 * expiry order, so that is also the entry closest to dying). An entry is never served at or past
 * its token's `exp`, and {@link purgeKey} drops every entry signed by a key removed from the set.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxSize: number;

  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  /** Entries held now (dead ones included until touched or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** The payload cached for `token`, if it is still alive at `nowMs`. */
  get(token: string, nowMs: number): ServiceTokenPayload | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (nowMs < entry.expiresAtMs) return entry.payload;
    this.#entries.delete(token);
    return undefined;
  }

  /** Caches a verified payload until its `exp`. */
  set(token: string, payload: ServiceTokenPayload, key: ServiceKey, nowMs: number): void {
    const expiresAtMs = payload.exp * 1000;
    if (this.#maxSize === 0 || expiresAtMs <= nowMs) return;
    // Drop a few dead entries from the old end on each insert, so the map tracks live tokens.
    let sweep = 8;
    for (const [oldToken, oldEntry] of this.#entries) {
      if (sweep-- === 0 || oldEntry.expiresAtMs > nowMs) break;
      this.#entries.delete(oldToken);
    }
    if (this.#entries.size >= this.#maxSize && !this.#entries.has(token)) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { payload, key, expiresAtMs });
  }

  /** Removes every entry verified with `key`; returns how many. */
  purgeKey(key: ServiceKey): number {
    let removed = 0;
    for (const [token, entry] of this.#entries) {
      if (entry.key === key) {
        this.#entries.delete(token);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.#entries.clear();
  }
}
