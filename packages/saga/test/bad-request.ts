import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { expect } from 'vitest';

/** What `fn` throws, asserted to be a ServiceError BAD_REQUEST (so a test can read its message). */
export function badRequestFrom(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST), String(error)).toBe(true);
    return error as Error;
  }
  return expect.unreachable('expected a BAD_REQUEST');
}
