import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpStatusToError, parseRetryAfter } from './http-status';

const NOW = Date.parse('2026-12-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds as whole ms, capped at what a timer holds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (seconds) => {
        expect(parseRetryAfter(String(seconds), NOW)).toBe(Math.min(seconds * 1000, 2_147_483_647));
      }),
    );
  });

  it('reads an HTTP date as the ms from now, never negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: -86_400, max: 86_400 }), (offsetSeconds) => {
        const date = new Date(NOW + offsetSeconds * 1000).toUTCString();
        expect(parseRetryAfter(date, NOW)).toBe(Math.max(0, offsetSeconds * 1000));
      }),
    );
  });

  it('returns undefined or a timer-safe integer for any header text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const ms = parseRetryAfter(text, NOW);
        if (ms !== undefined) {
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(ms).toBeLessThanOrEqual(2_147_483_647);
        }
      }),
    );
  });

  it('reads 0 as retry at once', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });
});

describe('httpStatusToError', () => {
  it('retries exactly 408, 429, 502, 503 and 504 among all statuses', () => {
    for (let status = 400; status < 600; status++) {
      expect(httpStatusToError(status).retryable, String(status)).toBe(
        [408, 429, 502, 503, 504].includes(status),
      );
    }
  });
});
