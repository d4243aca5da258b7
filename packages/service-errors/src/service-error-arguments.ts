import { MAX_TIMER_MS } from '@clone/internal';
import { isServiceErrorCode } from './error-code';

/** The first argument of a ServiceError out of its range: which, why, and what was given. */
export interface ArgumentProblem {
  field: string;
  text: string;
  value: unknown;
}

interface Options {
  retryable?: unknown;
  metadata?: unknown;
  grpcStatus?: unknown;
  httpStatus?: unknown;
  retryAfterMs?: unknown;
  attempts?: unknown;
}

/**
 * Checks the arguments of `new ServiceError(code, message, service, options)`; returns the
 * first problem, or undefined. The common case costs a handful of `typeof` checks: this runs on
 * every failure, and on every rejection of an open circuit.
 */
export function argumentProblem(
  code: unknown,
  message: unknown,
  service: unknown,
  options: unknown,
): ArgumentProblem | undefined {
  if (!isServiceErrorCode(code)) return problem('code', 'must be a ServiceErrorCode', code);
  if (typeof message !== 'string') return problem('message', 'must be a string', message);
  if (service !== undefined && typeof service !== 'string')
    return problem('service', 'must be a string', service);
  if (typeof options !== 'object' || options === null)
    return problem('options', 'must be an object', options);
  const { retryable, metadata, grpcStatus, httpStatus, retryAfterMs, attempts } = options as Options;
  if (retryable !== undefined && typeof retryable !== 'boolean')
    return problem('retryable', 'must be a boolean', retryable);
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null))
    return problem('metadata', 'must be an object', metadata);
  if (grpcStatus !== undefined && !isIntIn(grpcStatus, 0, 16))
    return problem('grpcStatus', 'must be a gRPC status, an integer between 0 and 16', grpcStatus);
  if (httpStatus !== undefined && !isIntIn(httpStatus, 100, 599))
    return problem('httpStatus', 'must be an HTTP status, an integer between 100 and 599', httpStatus);
  if (retryAfterMs !== undefined && !isIntIn(retryAfterMs, 0, MAX_TIMER_MS)) {
    const text = `must be an integer number of milliseconds between 0 and ${MAX_TIMER_MS}`;
    return problem('retryAfterMs', text, retryAfterMs);
  }
  if (attempts !== undefined && !isIntIn(attempts, 1, Number.MAX_SAFE_INTEGER))
    return problem('attempts', 'must be a positive integer', attempts);
  return undefined;
}

function problem(field: string, text: string, value: unknown): ArgumentProblem {
  return { field, text, value };
}

function isIntIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
