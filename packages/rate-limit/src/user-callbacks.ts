import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';

/**
 * The one boundary to the functions users hand this package (a key or route from a request, a
 * request id): calls `fn` and returns its value. A ServiceError it throws passes as is (a key
 * function may refuse a request with UNAUTHORIZED on purpose); anything else becomes
 * INTERNAL_ERROR naming the function, with what was thrown as `cause`. A returned value that is
 * neither a non-empty string nor undefined is refused the same way, so a bad key never reaches a store.
 */
export function callUser<A extends unknown[]>(
  what: string,
  fn: (...args: A) => unknown,
  ...args: A
): string | undefined {
  let value: unknown;
  try {
    value = fn(...args);
  } catch (error) {
    if (isServiceError(error)) throw error;
    throw new ServiceError(ServiceErrorCode.INTERNAL_ERROR, `${what} threw`, undefined, {
      retryable: false,
      cause: error,
      metadata: { callback: what },
    });
  }
  if (value === undefined || (typeof value === 'string' && value.length > 0)) return value;
  throw new ServiceError(
    ServiceErrorCode.INTERNAL_ERROR,
    `${what} must return a non-empty string or undefined`,
    undefined,
    { retryable: false, metadata: { callback: what } },
  );
}
