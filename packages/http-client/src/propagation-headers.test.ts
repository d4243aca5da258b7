import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidCorrelationId, parseDeadlineHeader } from './propagation-headers';

describe('x-request-timeout-ms parsing', () => {
  it('reads back every whole number of ms a timer holds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_147_483_647 }), (ms) => {
        expect(parseDeadlineHeader(String(ms))).toBe(ms);
        expect(parseDeadlineHeader([String(ms), '1'])).toBe(ms);
      }),
    );
  });

  it('never returns anything but undefined or an integer in the timer range, whatever the header', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[-+0-9.eE x]{0,14}$/)), (text) => {
        const ms = parseDeadlineHeader(text);
        if (ms !== undefined) {
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(ms).toBeLessThanOrEqual(2_147_483_647);
          expect(text).toMatch(/^\d+$/);
        }
      }),
    );
  });

  it('refuses signs, fractions, exponents, blanks and numbers past a timer', () => {
    for (const text of ['-1', '+5', '1.5', '1e3', ' 5', '', '2147483648', '99999999999', undefined]) {
      expect(parseDeadlineHeader(text)).toBeUndefined();
    }
  });
});

describe('correlation ids from outside', () => {
  it('accepts exactly 1–128 printable ASCII characters without spaces', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const expected =
          text.length >= 1 && text.length <= 128 && [...text].every((c) => c > ' ' && c <= '~');
        return isValidCorrelationId(text) === expected;
      }),
      { numRuns: 300 },
    );
  });
});
