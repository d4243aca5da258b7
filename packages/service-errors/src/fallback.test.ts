import { describe, expect, it } from 'vitest';
import { ServiceErrorCode } from './error-code';
import { Fallback } from './fallback';
import { ServiceError } from './service-error';
import { rejection } from './test-helpers';

const down = () => Promise.reject(new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down'));

describe('Fallback', () => {
  it('substitutes a failure, rethrows a cancellation, and reports it', async () => {
    const fallback = new Fallback({ fallback: (error) => `cached (${error.code})` });
    const seen: string[] = [];
    fallback.on('fallback', (e) => seen.push(e.error.code));
    expect(await fallback.execute(down)).toBe('cached (SERVICE_UNAVAILABLE)');
    expect(await fallback.execute(async () => 'fresh')).toBe('fresh');
    const cancelled = new ServiceError(ServiceErrorCode.CANCELLED, 'stop');
    await expect(fallback.execute(() => Promise.reject(cancelled))).rejects.toBe(cancelled);
    expect(seen).toEqual(['SERVICE_UNAVAILABLE']);
  });

  it('turns a throwing shouldFallback into an INTERNAL_ERROR with the cause', async () => {
    const bug = new Error('predicate bug');
    const fallback = new Fallback({
      fallback: () => 'never',
      shouldFallback: () => {
        throw bug;
      },
    });
    const error = await rejection(fallback.execute(down));
    expect(error.code).toBe(ServiceErrorCode.INTERNAL_ERROR);
    expect(error.message).toBe('Fallback: shouldFallback threw: predicate bug');
    expect(error.cause).toBe(bug);
  });

  it('normalises an unreadable failure without throwing', async () => {
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
      },
    );
    const fallback = new Fallback({ fallback: (error) => error.code });
    expect(await fallback.execute(() => Promise.reject(hostile))).toBe(ServiceErrorCode.INTERNAL_ERROR);
  });
});
