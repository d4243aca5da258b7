import { describe, expect, it } from 'vitest';
import type { RateLimitStore } from '../src/store';
import { type Tier, TierSet } from '../src/tier';

/** What a contract test gets: a fresh store (its keys unseen by other tests). */
export type MakeStore = () => Promise<RateLimitStore> | RateLimitStore;

const T0 = 1_760_000_000_000;

function policy(tiers: Tier[], name = 'default'): TierSet {
  return new TierSet(
    name,
    tiers.map((t) => ({ ...t })),
  );
}

let unique = 0;
/** A key no other test uses, so stores can be shared across tests. */
const key = (): string => `client-${process.pid}-${++unique}`;

/**
 * The behaviour every {@link RateLimitStore} must have, run against the in-process store and a
 * real Redis alike. Times are passed explicitly (`now`), as the limiter does with its clock.
 */
export function describeStoreContract(name: string, make: MakeStore): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    it('allows a burst of `limit`, then refuses with the time to the next slot', async () => {
      const store = await make();
      const p = policy([{ limit: 10, windowMs: 1_000 }]);
      const k = key();
      const remaining: number[] = [];
      for (let i = 0; i < 10; i++) {
        const d = await store.consume(k, p, T0, 1);
        expect(d.allowed).toBe(true);
        expect(d.source).toBe('store');
        remaining.push(d.remaining);
      }
      expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      const refused = await store.consume(k, p, T0, 1);
      expect(refused).toMatchObject({
        allowed: false,
        tier: 0,
        remaining: 0,
        retryAfterMs: 100,
        resetMs: 1_000,
      });
      expect((await store.consume(k, p, T0 + 99, 1)).allowed).toBe(false);
      const next = await store.consume(k, p, T0 + 100, 1);
      expect(next).toMatchObject({ allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 1_000 });
    });

    it('takes nothing from any tier when one tier refuses (all tiers checked and consumed together)', async () => {
      const store = await make();
      const p = policy([
        { limit: 2, windowMs: 1_000 },
        { limit: 5, windowMs: 10_000 },
      ]);
      const k = key();
      expect((await store.consume(k, p, T0, 1)).allowed).toBe(true);
      expect((await store.consume(k, p, T0, 1)).allowed).toBe(true);
      // Hammered while the short tier refuses: the long tier must not count these.
      for (let i = 0; i < 50; i++) {
        const d = await store.consume(k, p, T0 + i, 1);
        expect(d).toMatchObject({ allowed: false, tier: 0 });
      }
      // Had they counted, the long tier (5 per 10 s) would be empty; it has 5 - 2 = 3 left.
      expect(await store.consume(k, p, T0 + 1_000, 1)).toMatchObject({
        allowed: true,
        tier: 0,
        remaining: 1,
      });
      expect(await store.consume(k, p, T0 + 1_000, 1)).toMatchObject({
        allowed: true,
        tier: 0,
        remaining: 0,
      });
      expect(await store.consume(k, p, T0 + 1_000, 1)).toMatchObject({ allowed: false, tier: 0 });
      // Two seconds on the short tier has refilled; the long one has 1 + 1 (refilled) left.
      expect(await store.consume(k, p, T0 + 3_000, 1)).toMatchObject({ allowed: true });
      expect(await store.consume(k, p, T0 + 3_000, 1)).toMatchObject({ allowed: true, remaining: 0 });
      // Both refuse now; the long tier asks for the longer wait (one interval, 2 s, less 1 s).
      expect(await store.consume(k, p, T0 + 3_000, 1)).toMatchObject({
        allowed: false,
        tier: 1,
        retryAfterMs: 1_000,
      });
    });

    it('reports the tier asking for the longest wait when several refuse', async () => {
      const store = await make();
      const p = policy([
        { limit: 1, windowMs: 1_000 },
        { limit: 1, windowMs: 60_000 },
      ]);
      const k = key();
      await store.consume(k, p, T0, 1);
      expect(await store.consume(k, p, T0 + 10, 1)).toMatchObject({
        allowed: false,
        tier: 1,
        retryAfterMs: 59_990,
        resetMs: 59_990,
      });
    });

    it('adds intervals that are not whole milliseconds exactly (3 per second: 333⅓ ms)', async () => {
      const store = await make();
      const p = policy([{ limit: 3, windowMs: 1_000 }]);
      const k = key();
      for (let i = 0; i < 3; i++) expect((await store.consume(k, p, T0, 1)).allowed).toBe(true);
      expect(await store.consume(k, p, T0, 1)).toMatchObject({ allowed: false, retryAfterMs: 334 });
      expect((await store.consume(k, p, T0 + 333, 1)).allowed).toBe(false);
      expect((await store.consume(k, p, T0 + 334, 1)).allowed).toBe(true);
      // 999.99… ms later the third slot of the next 3 has not come back yet; at 1000 ms it has.
      expect((await store.consume(k, p, T0 + 667, 1)).allowed).toBe(true);
      expect((await store.consume(k, p, T0 + 999, 1)).allowed).toBe(false);
      expect((await store.consume(k, p, T0 + 1_000, 1)).allowed).toBe(true);
    });

    it('consumes `cost` requests at once, or none', async () => {
      const store = await make();
      const p = policy([{ limit: 10, windowMs: 1_000 }]);
      const k = key();
      expect(await store.consume(k, p, T0, 7)).toMatchObject({ allowed: true, remaining: 3 });
      expect(await store.consume(k, p, T0, 4)).toMatchObject({
        allowed: false,
        remaining: 3,
        retryAfterMs: 100,
      });
      expect(await store.consume(k, p, T0, 3)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('keeps keys and policies apart', async () => {
      const store = await make();
      const base = policy([{ limit: 1, windowMs: 1_000 }]);
      const payments = policy([{ limit: 1, windowMs: 1_000 }], 'payments');
      const [a, b] = [key(), key()];
      expect((await store.consume(a, base, T0, 1)).allowed).toBe(true);
      expect((await store.consume(a, base, T0, 1)).allowed).toBe(false);
      expect((await store.consume(b, base, T0, 1)).allowed).toBe(true);
      expect((await store.consume(a, payments, T0, 1)).allowed).toBe(true);
      expect((await store.consume(a, payments, T0, 1)).allowed).toBe(false);
    });

    it('gives a full burst again once every window has passed', async () => {
      const store = await make();
      const p = policy([
        { limit: 2, windowMs: 1_000 },
        { limit: 3, windowMs: 5_000 },
      ]);
      const k = key();
      for (let i = 0; i < 2; i++) await store.consume(k, p, T0, 1);
      const later = T0 + 60_000;
      expect(await store.consume(k, p, later, 1)).toMatchObject({ allowed: true, remaining: 1, tier: 0 });
      expect(await store.consume(k, p, later, 1)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('reads a clock that went backwards as no time passing', async () => {
      const store = await make();
      const p = policy([{ limit: 2, windowMs: 1_000 }]);
      const k = key();
      await store.consume(k, p, T0, 1);
      await store.consume(k, p, T0, 1);
      expect(await store.consume(k, p, T0 - 5_000, 1)).toMatchObject({ allowed: false });
      expect((await store.consume(k, p, T0 + 500, 1)).allowed).toBe(true);
    });
  });
}
