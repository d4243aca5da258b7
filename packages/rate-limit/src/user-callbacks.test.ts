import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { callUser } from './user-callbacks';

describe('callUser', () => {
  it('returns a string or undefined as given', () => {
    expect(callUser('key', (a: string) => `${a}!`, 'x')).toBe('x!');
    expect(callUser('key', () => undefined)).toBeUndefined();
  });

  it('lets a ServiceError through and wraps anything else, keeping it as cause', () => {
    const refusal = new ServiceError(ServiceErrorCode.UNAUTHORIZED, 'no client id');
    expect(() =>
      callUser('key', () => {
        throw refusal;
      }),
    ).toThrow(refusal);
    const thrown = new Error('boom');
    try {
      callUser('rateLimitMiddleware: key', () => {
        throw thrown;
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        code: 'INTERNAL_ERROR',
        message: 'rateLimitMiddleware: key threw',
        cause: thrown,
      });
    }
  });

  it('refuses a value that is not a non-empty string', () => {
    for (const bad of ['', 42, null, {}]) {
      expect(() => callUser('key', () => bad)).toThrow(/key must return a non-empty string or undefined/);
    }
  });
});
