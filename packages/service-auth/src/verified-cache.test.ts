import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ServiceKey } from './key-set';
import type { ServiceTokenPayload } from './payload';
import { VerifiedTokenCache } from './verified-cache';

const secret = createSecretKey(Buffer.alloc(32, 1));
const keyA: ServiceKey = { kid: 'a', algorithm: 'HS256', signKey: secret, verifyKey: secret };
const keyB: ServiceKey = { kid: 'b', algorithm: 'HS256', signKey: secret, verifyKey: secret };
const payload = (exp: number): ServiceTokenPayload => ({
  serviceId: 's',
  serviceName: 's',
  permissions: [],
  iat: 0,
  exp,
  sub: 's',
});

describe('VerifiedTokenCache', () => {
  it('serves an entry until its exp and never at or after it', () => {
    const cache = new VerifiedTokenCache(10);
    const p = payload(100);
    cache.set('t', p, keyA, 0);
    expect(cache.get('t', 99_999)).toBe(p);
    expect(cache.get('t', 100_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store an already expired payload', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('t', payload(100), keyA, 100_000);
    expect(cache.size).toBe(0);
  });

  it('stays within its bound, evicting the oldest first', () => {
    const cache = new VerifiedTokenCache(3);
    for (let i = 0; i < 10; i++) cache.set(`t${i}`, payload(1000), keyA, 0);
    expect(cache.size).toBe(3);
    expect(cache.get('t6', 0)).toBeUndefined();
    expect(cache.get('t9', 0)).toBeDefined();
  });

  it('sweeps dead entries from the old end on insert', () => {
    const cache = new VerifiedTokenCache(100);
    for (let i = 0; i < 5; i++) cache.set(`old${i}`, payload(10), keyA, 0);
    cache.set('new', payload(1000), keyA, 20_000);
    expect(cache.size).toBe(1);
  });

  it('purges every entry of a removed key', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('a1', payload(1000), keyA, 0);
    cache.set('b1', payload(1000), keyB, 0);
    cache.set('a2', payload(1000), keyA, 0);
    expect(cache.purgeKey(keyA)).toBe(2);
    expect(cache.get('a1', 0)).toBeUndefined();
    expect(cache.get('b1', 0)).toBeDefined();
  });

  it('misses a token that reuses a cached signature with another header or payload', () => {
    const cache = new VerifiedTokenCache(10);
    const p = payload(1000);
    cache.set('h.p.sig', p, keyA, 0);
    expect(cache.get('h.p.sig', 0)).toBe(p);
    expect(cache.get('h.forged.sig', 0)).toBeUndefined();
    expect(cache.get('sig', 0)).toBeUndefined();
    expect(cache.get('h.p.sig', 0)).toBe(p);
  });

  it('is off with a size of 0', () => {
    const cache = new VerifiedTokenCache(0);
    cache.set('t', payload(1000), keyA, 0);
    expect(cache.get('t', 0)).toBeUndefined();
  });
});
