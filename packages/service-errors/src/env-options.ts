import { formatValue, intAtLeast, numberAtLeast } from '@clone/internal';
import type { z } from 'zod';
import type { CircuitBreakerOptions } from './circuit-breaker';
import { ServiceErrorCode } from './error-code';
import type { RetryOptions } from './retry-policy';
import { ServiceError } from './service-error';

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

type Spec<O> = readonly [variable: string, field: keyof O, schema: z.ZodNumber];

const BREAKER_VARS: readonly Spec<CircuitBreakerOptions>[] = [
  ['CIRCUIT_BREAKER_FAILURE_THRESHOLD', 'failureThreshold', intAtLeast(1)],
  ['CIRCUIT_BREAKER_SUCCESS_THRESHOLD', 'successThreshold', intAtLeast(1)],
  ['CIRCUIT_BREAKER_TIMEOUT', 'timeout', intAtLeast(1)],
  ['CIRCUIT_BREAKER_RESET_TIMEOUT', 'resetTimeoutMs', intAtLeast(1)],
];

const RETRY_VARS: readonly Spec<RetryOptions>[] = [
  ['RETRY_MAX_ATTEMPTS', 'maxAttempts', intAtLeast(1)],
  ['RETRY_INITIAL_DELAY', 'initialDelayMs', intAtLeast(0)],
  ['RETRY_MAX_DELAY', 'maxDelayMs', intAtLeast(0)],
  ['RETRY_BACKOFF_MULTIPLIER', 'backoffMultiplier', numberAtLeast(1)],
];

function fromEnv<O>(env: Env, specs: readonly Spec<O>[]): Partial<O> {
  const options: Record<string, number> = {};
  for (const [variable, field, schema] of specs) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    const text = raw.trim();
    // Plain decimal only: Number() would also take '0x10' or '1e3', which no one means here.
    const result = schema.safeParse(/^[+-]?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? 'is invalid';
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `${variable} ${message}, got ${formatValue(raw)}`,
        undefined,
        {
          retryable: false,
          metadata: { variable, field: String(field) },
        },
      );
    }
    options[field as string] = result.data;
  }
  return options as Partial<O>;
}

/**
 * CircuitBreaker options from the design document's variables: `CIRCUIT_BREAKER_FAILURE_THRESHOLD`,
 * `CIRCUIT_BREAKER_SUCCESS_THRESHOLD`, `CIRCUIT_BREAKER_TIMEOUT` (ms), `CIRCUIT_BREAKER_RESET_TIMEOUT`
 * (ms). Unset or empty variables are left out, so defaults (or your own spread after) apply. A bad
 * value throws ServiceError BAD_REQUEST naming the variable and the value.
 */
export function circuitBreakerOptionsFromEnv(env: Env = process.env): CircuitBreakerOptions {
  return fromEnv(env, BREAKER_VARS);
}

/**
 * RetryPolicy options from `RETRY_MAX_ATTEMPTS`, `RETRY_INITIAL_DELAY` (ms), `RETRY_MAX_DELAY` (ms)
 * and `RETRY_BACKOFF_MULTIPLIER`; same rules as {@link circuitBreakerOptionsFromEnv}.
 */
export function retryOptionsFromEnv(env: Env = process.env): RetryOptions {
  return fromEnv(env, RETRY_VARS);
}
