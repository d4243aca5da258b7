import { describe, expect, it } from 'vitest';
import { ResponseCache } from './response-cache';

const entry = (bytes: number, storedAt = 0) => ({
  statusCode: 200,
  headers: {},
  body: Buffer.alloc(bytes),
  storedAt,
});

describe('ResponseCache', () => {
  it('evicts the least recently used past maxEntries', () => {
    const cache = new ResponseCache({
      maxEntries: 2,
      maxEntryBytes: 100,
      maxTotalBytes: 1_000,
      maxStaleMs: 1_000,
    });
    cache.set('a', entry(1));
    cache.set('b', entry(1));
    expect(cache.get('a', 0)).toBeDefined();
    cache.set('c', entry(1));
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.get('a', 0)).toBeDefined();
    expect(cache.get('c', 0)).toBeDefined();
  });

  it('keeps the total bytes bounded and refuses an entry larger than maxEntryBytes', () => {
    const cache = new ResponseCache({
      maxEntries: 100,
      maxEntryBytes: 60,
      maxTotalBytes: 100,
      maxStaleMs: 1_000,
    });
    cache.set('big', entry(61));
    expect(cache.size).toBe(0);
    cache.set('a', entry(60));
    cache.set('b', entry(60));
    expect(cache.bytes).toBe(60);
    expect(cache.get('a', 0)).toBeUndefined();
    cache.set('b', entry(10));
    expect(cache.bytes).toBe(10);
  });

  it('drops an entry older than maxStaleMs when asked for it', () => {
    const cache = new ResponseCache({
      maxEntries: 10,
      maxEntryBytes: 10,
      maxTotalBytes: 100,
      maxStaleMs: 1_000,
    });
    cache.set('a', entry(5, 100));
    expect(cache.get('a', 1_100)).toBeDefined();
    expect(cache.get('a', 1_101)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });
});
