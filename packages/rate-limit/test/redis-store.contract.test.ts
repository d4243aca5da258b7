import { describe, expect, it } from 'vitest';
import { consumeScript, RedisStore } from '../src/redis';
import { TierSet } from '../src/tier';
import { useRedis } from './redis-server';
import { describeStoreContract } from './store-contract';

const redis = useRedis();

/**
 * The script's state: little-endian doubles, a TAT per tier (whole ms, then the rest when the
 * interval has one), then the time the key's expiry was last set to.
 */
function doubles(state: Buffer | null): number[] {
  const values: number[] = [];
  for (let i = 0; state !== null && i < state.length; i += 8) values.push(state.readDoubleLE(i));
  return values;
}

describeStoreContract('RedisStore', () => new RedisStore({ client: redis.client() }));

describe('RedisStore', () => {
  const policy = new TierSet('default', [
    { limit: 10, windowMs: 1_000 },
    { limit: 100, windowMs: 10_000 },
  ]);

  it('runs its script by SHA, and sends it again after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const client = redis.client();
    const store = new RedisStore({ client, prefix: 'flush:' });
    const { sha } = consumeScript(policy);
    await client.script('FLUSH');
    expect(await client.script('EXISTS', sha)).toEqual([0]);
    expect((await store.consume('a', policy, Date.now(), 1)).allowed).toBe(true);
    expect(await client.script('EXISTS', sha)).toEqual([1]);
    expect((await store.consume('a', policy, Date.now(), 1)).remaining).toBe(8);
  });

  it('keeps one string per key and tiers, expiring when every tier has refilled; a refusal writes nothing', async () => {
    const client = redis.client();
    const store = new RedisStore({ client, prefix: 'ttl:' });
    const key = 'ttl:default:10/1000,100/10000:k';
    const now = Date.now();
    await store.consume('k', policy, now, 3);
    // Both tiers hold 3 × 100 ms of TAT; the key outlives it by two of the longest window (10 s).
    const ttl = await client.pttl(key);
    expect(ttl).toBeGreaterThan(20_000);
    expect(ttl).toBeLessThanOrEqual(20_300);
    const state = await client.getBuffer(key);
    // Both intervals are whole ms (100 ms): no rest is stored. Last: the expiry's time.
    expect(doubles(state)).toEqual([now + 300, now + 300, now + 20_300]);
    expect((await store.consume('k', policy, now, 10)).allowed).toBe(false);
    expect(await client.getBuffer(key)).toEqual(state);
    // Other numbers for the same policy name start afresh.
    const tighter = new TierSet('default', [{ limit: 3, windowMs: 1_000 }]);
    expect(await store.consume('k', tighter, now, 3)).toMatchObject({ allowed: true, remaining: 0 });
    // 1000/3 ms: whole ms and the rest in thirds (3 × 333⅓ ms = 1000 ms, rest 0).
    expect(doubles(await client.getBuffer('ttl:default:3/1000:k'))).toEqual([now + 1_000, 0, now + 3_000]);
    expect(await store.consume('k', tighter, now + 1_000, 1)).toMatchObject({ allowed: true, remaining: 2 });
    // Its TATs still end a window before the expiry: the expiry is kept, not set again.
    expect(doubles(await client.getBuffer('ttl:default:3/1000:k'))).toEqual([now + 1_333, 1, now + 3_000]);
  });

  it('sets the expiry again only once the TATs would come within a window of it', async () => {
    const client = redis.client();
    const store = new RedisStore({ client, prefix: 'renew:' });
    const one = new TierSet('default', [{ limit: 10, windowMs: 1_000 }]);
    const key = 'renew:default:10/1000:k';
    const now = Date.now();
    await store.consume('k', one, now, 1);
    expect(doubles(await client.getBuffer(key))).toEqual([now + 100, now + 2_100]);
    // Marks the key's expiry: a write that keeps it leaves this one in place.
    await client.pexpire(key, 50_000);
    await store.consume('k', one, now + 1_000, 1);
    expect(doubles(await client.getBuffer(key))).toEqual([now + 1_100, now + 2_100]);
    expect(await client.pttl(key)).toBeGreaterThan(40_000);
    // A TAT at 1 200 ms plus a window passes 2 100: set again, two windows past the TAT.
    await store.consume('k', one, now + 1_001, 1);
    expect(doubles(await client.getBuffer(key))).toEqual([now + 1_200, now + 3_200]);
    const ttl = await client.pttl(key);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(2_199);
  });

  it('reads a state of another size (another version of the script) as a fresh key, and rewrites it', async () => {
    const client = redis.client();
    const store = new RedisStore({ client, prefix: 'old:' });
    const key = 'old:default:10/1000,100/10000:k';
    const now = Date.now();
    // Two TATs far ahead, with no expiry's time after them: the layout before `x`.
    const old = Buffer.alloc(16);
    old.writeDoubleLE(now + 60_000, 0);
    old.writeDoubleLE(now + 60_000, 8);
    await client.set(key, old);
    expect(await store.consume('k', policy, now, 1)).toMatchObject({ allowed: true, remaining: 9 });
    expect(doubles(await client.getBuffer(key))).toEqual([now + 100, now + 100, now + 20_100]);
  });

  it('fails with the client error when Redis cannot be reached', async () => {
    const client = redis.client({ lazyConnect: true, enableOfflineQueue: false });
    const store = new RedisStore({ client });
    await expect(store.consume('k', policy, Date.now(), 1)).rejects.toThrow();
  });

  it('refuses a client that is not one', () => {
    expect(() => new RedisStore({ client: {} as never })).toThrow(/client must be an ioredis client/);
  });
});
