import type { RetryLike } from '../src/step-runner';

/** Retries up to `attempts` times with no delay: enough to observe the saga's use of a policy. */
export const retryTimes = (attempts: number): RetryLike => ({
  async execute(fn, signal) {
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        return await fn({ signal: signal ?? new AbortController().signal, attempt });
      } catch (error) {
        last = error;
      }
    }
    throw last;
  },
});
