import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { JwtVerification } from './jwt-verification';
import { importSharedSecret, type ServiceKey } from './key-set';
import { reasonOf, rejection } from './test-helpers';

const A = importSharedSecret('jwt-verification-secret-a-0123456789abcdef', 'a');
const B = importSharedSecret('jwt-verification-secret-b-0123456789abcdef', 'b');

function verification(select: (alg: unknown) => ServiceKey | readonly ServiceKey[] | 'bad_algorithm') {
  const seen: ServiceKey[] = [];
  const v = new JwtVerification<{ exp: number; sub: string }>(
    {
      kind: 'user',
      select,
      toPayload: (claims, key) => {
        seen.push(key);
        const c = claims as { exp: number; sub: string };
        return Object.freeze({ exp: c.exp, sub: c.sub });
      },
    },
    { clockToleranceSeconds: 0, cacheSize: 10 },
  );
  return { v, seen };
}

const sign = (key: ServiceKey, claims: object) => jwt.sign(claims, key.verifyKey, { algorithm: 'HS256' });

describe('JwtVerification', () => {
  it('tries the next key only after a signature mismatch, and caches under the key that matched', () => {
    const { v, seen } = verification(() => [A, B]);
    const token = sign(B, { sub: 'x', exp: 2_000 });
    const payload = v.verify(token, 1_000_000);
    expect(seen).toEqual([B]);
    expect(v.verify(token, 1_000_000)).toBe(payload);
    expect(v.purgeKey(A)).toBe(0);
    expect(v.purgeKey(B)).toBe(1);
    expect(v.cached(token, 1_000_000)).toBeUndefined();
  });

  it('never serves a cached payload at or past exp', () => {
    const { v } = verification(() => A);
    const token = sign(A, { sub: 'x', exp: 2_000 });
    v.verify(token, 1_000_000);
    expect(v.cached(token, 1_999_999)).toBeDefined();
    expect(v.cached(token, 2_000_000)).toBeUndefined();
    expect(reasonOf(() => v.verify(token, 2_000_000))).toBe('expired');
  });

  it('refuses when the rules select no key, naming the token kind', () => {
    const { v } = verification(() => []);
    const error = rejection(() => v.verify(sign(A, { sub: 'x', exp: 2_000 }), 1_000_000));
    expect(error.metadata?.reason).toBe('bad_algorithm');
    expect(error.message).toMatch(/^User token rejected/);
    const { v: none } = verification(() => 'bad_algorithm');
    expect(reasonOf(() => none.verify(sign(A, { sub: 'x', exp: 2_000 }), 1_000_000))).toBe('bad_algorithm');
  });
});
