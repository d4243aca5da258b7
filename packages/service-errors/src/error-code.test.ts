import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRetryableByDefault, isServiceErrorCode, ServiceErrorCode } from './error-code';

describe('ServiceErrorCode', () => {
  it("holds the design document's fifteen codes, exactly as docs/samples/error-codes.sample.ts lists them", () => {
    const sample = readFileSync(
      join(import.meta.dirname, '../../../docs/samples/error-codes.sample.ts'),
      'utf8',
    );
    const members = [...sample.matchAll(/^\s*(\w+) = '(\w+)',$/gm)].map((m) => [m[1], m[2]]);
    expect(members).toHaveLength(15);
    for (const [name, value] of members) {
      expect(ServiceErrorCode[name as keyof typeof ServiceErrorCode]).toBe(value);
      expect(isServiceErrorCode(value)).toBe(true);
    }
    expect(members.map(([, v]) => v)).toEqual(Object.values(ServiceErrorCode).slice(0, 15));
  });

  it('marks only transient codes retryable by default', () => {
    const retryable = Object.values(ServiceErrorCode).filter(isRetryableByDefault);
    expect(retryable).toEqual(['SERVICE_UNAVAILABLE', 'TIMEOUT', 'RATE_LIMIT_EXCEEDED']);
    expect(isServiceErrorCode('UNAVAILABLE')).toBe(false);
  });
});
