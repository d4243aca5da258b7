/** Shared by this package's tests only (excluded from the published files). */
import type { Clock } from './clock';
import { isServiceError, type ServiceError } from './service-error';

/**
 * A clock object of its own over the (possibly faked) globals, so a deadline queue shared by
 * another test's clock never interferes.
 */
export function fakeClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms, unref) => {
      const h = setTimeout(fn, ms);
      if (unref) h.unref?.();
      return h;
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}

/** The ServiceError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    if (isServiceError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
