import { formatValue } from '@clone/internal';
import type { z } from 'zod';
import { type CircuitBreakerOptions, circuitBreakerOptionsSchema } from './circuit-breaker-options';
import { ServiceErrorCode } from './error-code';
import { type RetryOptions, retryOptionsSchema } from './retry-policy';
import { ServiceError } from './service-error';

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A variable and the option it sets: checked by that option's own schema, so the bounds are the same. */
type Spec<O> = readonly [variable: string, field: keyof O & string];

const BREAKER_VARS: readonly Spec<CircuitBreakerOptions>[] = [
  ['CIRCUIT_BREAKER_FAILURE_THRESHOLD', 'failureThreshold'],
  ['CIRCUIT_BREAKER_SUCCESS_THRESHOLD', 'successThreshold'],
  ['CIRCUIT_BREAKER_TIMEOUT', 'timeout'],
  ['CIRCUIT_BREAKER_RESET_TIMEOUT', 'resetTimeoutMs'],
];

const RETRY_VARS: readonly Spec<RetryOptions>[] = [
  ['RETRY_MAX_ATTEMPTS', 'maxAttempts'],
  ['RETRY_INITIAL_DELAY', 'initialDelayMs'],
  ['RETRY_MAX_DELAY', 'maxDelayMs'],
  ['RETRY_BACKOFF_MULTIPLIER', 'backoffMultiplier'],
];

function fromEnv<O>(
  env: Env,
  specs: readonly Spec<O>[],
  shape: Readonly<Record<string, z.ZodType>>,
): Partial<O> {
  const options: Record<string, number> = {};
  for (const [variable, field] of specs) {
    const schema = shape[field]!;
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
    options[field] = result.data as number;
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
  return fromEnv(env, BREAKER_VARS, circuitBreakerOptionsSchema.shape);
}

/**
 * RetryPolicy options from `RETRY_MAX_ATTEMPTS`, `RETRY_INITIAL_DELAY` (ms), `RETRY_MAX_DELAY` (ms)
 * and `RETRY_BACKOFF_MULTIPLIER`; same rules as {@link circuitBreakerOptionsFromEnv}.
 */
export function retryOptionsFromEnv(env: Env = process.env): RetryOptions {
  return fromEnv(env, RETRY_VARS, retryOptionsSchema.shape);
}
