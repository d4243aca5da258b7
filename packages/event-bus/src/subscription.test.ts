import { describe, expect, it } from 'vitest';
import { resolveSubscription } from './subscription';

const defaults = { serviceName: 'ai-service', retryAttempts: 3, retryDelayMs: 1000 };

describe('resolveSubscription', () => {
  it('names the queue after the service and pattern, and lays out the retry delays', () => {
    const spec = resolveSubscription('sample.*', { retryMultiplier: 3, maxRetryDelayMs: 5000 }, defaults);
    expect(spec).toMatchObject({
      queue: 'ai-service.sample.*',
      retryDelays: [1000, 3000, 5000],
      deadLetter: true,
      concurrency: 1,
      prefetch: 10,
      deliveryLimit: 5,
    });
  });

  it('keeps prefetch at least concurrency, and takes the bus defaults', () => {
    expect(resolveSubscription('a', { concurrency: 32 }, defaults).prefetch).toBe(32);
    expect(resolveSubscription('a', { retryAttempts: 0 }, defaults).retryDelays).toEqual([]);
  });

  it.each([
    [{ retryDelayMs: 2 ** 31 }, 'retryDelayMs'],
    [{ priority: 'highest' }, 'priority'],
    [{ filter: 'x' }, 'filter'],
    [{ concurrency: 0 }, 'concurrency'],
    [{ nope: 1 }, 'nope'],
  ])('refuses %j naming %s', (options, field) => {
    expect(() => resolveSubscription('a', options, defaults)).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', metadata: expect.objectContaining({ field }) }),
    );
  });
});
