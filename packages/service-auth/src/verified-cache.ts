import type { ServiceKey } from './key-set';
import type { ServiceTokenPayload } from './payload';

/** What the cache needs of a verified payload: its expiry, seconds since the epoch. */
export interface ExpiringPayload {
  readonly exp: number;
}

interface Entry<P extends ExpiringPayload> {
  /** The whole token: a lookup by signature is a hit only when the rest matches too. */
  readonly token: string;
  readonly payload: P;
  readonly key: ServiceKey;
  /** The token's `exp` in ms: the entry is dead from this instant on. */
  readonly expiresAtMs: number;
}

/**
 * The map key of a token: its signature segment. A token read from a request is a fresh string
 * whose hash V8 computes on every lookup; hashing its ~43-character signature rather than all
 * ~400 characters makes a hit several times cheaper. Equality of the whole token is still
 * required, so a token that reuses a cached signature with another header or payload misses
 * and goes through full verification (where it fails).
 */
function keyOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

/**
 * Verified payloads by token string, so a caller that sends the same token on every call pays
 * one map lookup instead of a signature check. Only tokens that passed full verification get
 * in. Bounded: when full, the oldest insertion goes first (tokens are inserted roughly in
 * expiry order, so that is also the entry closest to dying). An entry is never served at or past
 * its token's `exp`, and {@link purgeKey} drops every entry signed by a key removed from the set.
 */
export class VerifiedTokenCache<P extends ExpiringPayload = ServiceTokenPayload> {
  readonly #entries = new Map<string, Entry<P>>();
  readonly #maxSize: number;

  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  /** Entries held now (dead ones included until touched or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** The payload cached for `token`, if it is still alive at `nowMs`. */
  get(token: string, nowMs: number): P | undefined {
    const key = keyOf(token);
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (nowMs < entry.expiresAtMs) return entry.payload;
    this.#entries.delete(key);
    return undefined;
  }

  /** Caches a verified payload until its `exp`. */
  set(token: string, payload: P, key: ServiceKey, nowMs: number): void {
    const expiresAtMs = payload.exp * 1000;
    if (this.#maxSize === 0 || expiresAtMs <= nowMs) return;
    // Drop a few dead entries from the old end on each insert, so the map tracks live tokens.
    let sweep = 8;
    for (const [oldToken, oldEntry] of this.#entries) {
      if (sweep-- === 0 || oldEntry.expiresAtMs > nowMs) break;
      this.#entries.delete(oldToken);
    }
    const mapKey = keyOf(token);
    if (this.#entries.size >= this.#maxSize && !this.#entries.has(mapKey)) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(mapKey, { token, payload, key, expiresAtMs });
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
