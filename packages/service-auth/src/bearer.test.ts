import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bearerToken } from './bearer';
import { reasonOf } from './test-helpers';

const read = (value: unknown) => bearerToken(value, 'Authorization header', 'Authorization: Bearer <jwt>');

describe('bearerToken', () => {
  it('returns what follows the scheme, whatever its case', () => {
    fc.assert(
      fc.property(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR'), fc.string(), (scheme, token) => {
        expect(read(`${scheme} ${token}`)).toBe(token);
      }),
    );
  });

  it('refuses any other scheme or shape as malformed, and nothing as missing', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/^bearer /i.test(s)),
        (value) => {
          expect(reasonOf(() => read(value))).toBe('malformed');
        },
      ),
    );
    expect(reasonOf(() => read(undefined))).toBe('missing_token');
    expect(reasonOf(() => read(['Bearer a', 'Bearer b']))).toBe('malformed');
    expect(reasonOf(() => read(Buffer.from('Bearer a')))).toBe('malformed');
  });

  it('names the header and the expected form, never the value', () => {
    expect(() => read('Basic c2VjcmV0')).toThrow("Authorization header is not 'Bearer <jwt>'");
    expect(() => read('Basic c2VjcmV0')).not.toThrow(/c2VjcmV0/);
    expect(() => read(undefined)).toThrow("no Authorization header; expected 'Authorization: Bearer <jwt>'");
  });
});
