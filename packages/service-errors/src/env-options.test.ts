import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';
import { circuitBreakerOptionsFromEnv, retryOptionsFromEnv } from './env-options';
import { RetryPolicy } from './retry-policy';
import { isServiceError } from './service-error';

describe('options from the environment', () => {
  it("reads the design document's variables", () => {
    const env = {
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '5',
      CIRCUIT_BREAKER_SUCCESS_THRESHOLD: '2',
      CIRCUIT_BREAKER_TIMEOUT: '30000',
      CIRCUIT_BREAKER_RESET_TIMEOUT: '60000',
      RETRY_MAX_ATTEMPTS: '3',
      RETRY_INITIAL_DELAY: '100',
      RETRY_MAX_DELAY: '5000',
      RETRY_BACKOFF_MULTIPLIER: '1.5',
      UNRELATED: 'x',
    };
    expect(circuitBreakerOptionsFromEnv(env)).toEqual({
      failureThreshold: 5,
      successThreshold: 2,
      timeout: 30000,
      resetTimeoutMs: 60000,
    });
    expect(retryOptionsFromEnv(env)).toEqual({
      maxAttempts: 3,
      initialDelayMs: 100,
      maxDelayMs: 5000,
      backoffMultiplier: 1.5,
    });
    expect(new CircuitBreaker(circuitBreakerOptionsFromEnv(env)).state).toBe('CLOSED');
    expect(new RetryPolicy(retryOptionsFromEnv(env))).toBeInstanceOf(RetryPolicy);
  });

  it('leaves unset and empty variables out', () => {
    expect(circuitBreakerOptionsFromEnv({ CIRCUIT_BREAKER_TIMEOUT: ' ' })).toEqual({});
    expect(retryOptionsFromEnv({})).toEqual({});
  });

  it('names the variable and the value when one is bad', () => {
    expect(() => circuitBreakerOptionsFromEnv({ CIRCUIT_BREAKER_FAILURE_THRESHOLD: '-1' })).toThrow(
      'CIRCUIT_BREAKER_FAILURE_THRESHOLD must be a positive integer, got "-1"',
    );
    expect(() => retryOptionsFromEnv({ RETRY_INITIAL_DELAY: '10ms' })).toThrow(
      'RETRY_INITIAL_DELAY must be an integer number of milliseconds between 0 and 2147483647 (about 24.8 days), got "10ms"',
    );
    expect(() => retryOptionsFromEnv({ RETRY_MAX_ATTEMPTS: '0x10' })).toThrow('RETRY_MAX_ATTEMPTS');
    expect(() => retryOptionsFromEnv({ RETRY_MAX_DELAY: '1e3' })).toThrow('RETRY_MAX_DELAY');
    expect(retryOptionsFromEnv({ RETRY_BACKOFF_MULTIPLIER: '1.5' }).backoffMultiplier).toBe(1.5);
    try {
      retryOptionsFromEnv({ RETRY_BACKOFF_MULTIPLIER: '0.5' });
      expect.unreachable();
    } catch (e) {
      expect(isServiceError(e, 'BAD_REQUEST' as never)).toBe(true);
      expect((e as { metadata: unknown }).metadata).toEqual({
        variable: 'RETRY_BACKOFF_MULTIPLIER',
        field: 'backoffMultiplier',
      });
    }
  });

  it('bounds durations as the options do: nothing a timer cannot hold', () => {
    for (const [variable, read] of [
      ['CIRCUIT_BREAKER_TIMEOUT', circuitBreakerOptionsFromEnv],
      ['CIRCUIT_BREAKER_RESET_TIMEOUT', circuitBreakerOptionsFromEnv],
      ['RETRY_INITIAL_DELAY', retryOptionsFromEnv],
      ['RETRY_MAX_DELAY', retryOptionsFromEnv],
    ] as const) {
      expect(() => read({ [variable]: '2147483648' })).toThrow(
        `${variable} must be an integer number of milliseconds between`,
      );
      expect(() => read({ [variable]: '2147483647' })).not.toThrow();
    }
  });
});
