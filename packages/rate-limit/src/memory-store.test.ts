import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store';
import { TierSet } from './tier';

const policy = new TierSet('default', [{ limit: 2, windowMs: 1_000 }]);

describe('MemoryStore', () => {
  it('drops keys whose windows have passed as new keys arrive, before any live one', () => {
    const store = new MemoryStore({ maxKeys: 3 });
    store.consume('old-1', policy, 0, 1);
    store.consume('old-2', policy, 0, 1);
    store.consume('live', policy, 900, 2);
    // At 1 000 ms the first two have refilled: they make room, nothing live is evicted.
    store.consume('new-1', policy, 1_000, 1);
    store.consume('new-2', policy, 1_000, 1);
    expect(store.stats()).toEqual({ keys: 3, evicted: 0 });
    expect(store.consume('live', policy, 1_000, 1)).toMatchObject({ allowed: false });
  });

  it('never holds more than maxKeys, evicting the oldest live key and counting it', () => {
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) store.consume(`k${i}`, policy, 0, 1);
    expect(store.stats()).toEqual({ keys: 100, evicted: 900 });
    // The newest keys are the ones kept.
    expect(store.consume('k999', policy, 0, 2)).toMatchObject({ allowed: false });
  });

  it('keeps each state as the policy array grows, and starts a reused slot afresh', () => {
    const store = new MemoryStore({ maxKeys: 1_000 });
    const three = new TierSet('default', [
      { limit: 5, windowMs: 1_000 },
      { limit: 3, windowMs: 3_000 },
    ]);
    // Far more keys than the array first holds: each keeps what it consumed.
    for (let i = 0; i < 300; i++) expect(store.consume(`k${i}`, three, 0, 1 + (i % 3)).allowed).toBe(true);
    for (let i = 0; i < 300; i++)
      expect(store.consume(`k${i}`, three, 0, 1)).toMatchObject({
        allowed: i % 3 < 2,
        remaining: i % 3 === 0 ? 1 : 0,
      });
    // At 3 s every one of them has refilled: new keys take their slots, from zero.
    for (let i = 0; i < 300; i++)
      expect(store.consume(`n${i}`, three, 3_000, 1)).toMatchObject({ allowed: true, remaining: 2 });
    expect(store.stats()).toEqual({ keys: 300, evicted: 0 });
  });

  it('keeps no entry for a key whose first request is refused', () => {
    const store = new MemoryStore();
    store.consume('k', policy, 0, 2);
    store.clear();
    expect(store.consume('k', new TierSet('default', [{ limit: 1, windowMs: 1_000 }]), 0, 1).allowed).toBe(
      true,
    );
    expect(store.stats().keys).toBe(1);
  });

  it('refuses a bad maxKeys naming the field', () => {
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(
      /MemoryStore: maxKeys must be a positive integer, got 0/,
    );
  });
});
