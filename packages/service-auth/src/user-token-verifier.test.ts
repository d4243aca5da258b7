import { createHmac, generateKeyPairSync } from 'node:crypto';
import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { b64, reasonOf, rejection } from './test-helpers';
import { createUserTokenVerifier } from './user-token-verifier';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256-0123456789';
const OLD = 'the-previous-secret-still-accepted-during-rotation-0123';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A clock standing at `seconds`, moved by `set`. */
function clockAt(seconds: number) {
  let now = seconds * 1000;
  return {
    clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined },
    set: (s: number) => {
      now = s * 1000;
    },
  };
}

const sign = (claims: object, secret: string = SECRET) => jwt.sign(claims, secret, { algorithm: 'HS256' });

function badRequest(fn: () => unknown): { message: string; field: unknown } {
  try {
    fn();
  } catch (error) {
    expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST)).toBe(true);
    return {
      message: (error as Error).message,
      field: (error as { metadata?: { field?: unknown } }).metadata?.field,
    };
  }
  throw new Error('expected BAD_REQUEST');
}

describe('createUserTokenVerifier', () => {
  it('returns the user claims, frozen, and checks expiry against the injected clock, cached or not', () => {
    const { clock, set } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ secret: SECRET, clock, clockToleranceSec: 0 });
    const token = sign({
      sub: 'user_id_123',
      email: 'seller@example.com',
      role: 'seller',
      iat: 990,
      exp: 2_000,
      extra: 'dropped',
    });
    const claims = verifier.verify(token);
    expect(claims).toStrictEqual({
      sub: 'user_id_123',
      email: 'seller@example.com',
      role: 'seller',
      iat: 990,
      exp: 2_000,
    });
    expect(Object.isFrozen(claims)).toBe(true);
    // Served from the cache: the very same object, no second signature check.
    expect(verifier.verify(token)).toBe(claims);
    set(2_000);
    const expired = rejection(() => verifier.verify(token));
    expect(expired.code).toBe('UNAUTHORIZED');
    expect(expired.metadata?.reason).toBe('expired');
    expect(expired.message).toMatch(/^User token rejected \(expired\)/);
  });

  it('allows the clock tolerance past exp, and not more', () => {
    const { clock, set } = clockAt(2_004);
    const verifier = createUserTokenVerifier({ secret: SECRET, clock, clockToleranceSec: 5, cacheSize: 0 });
    const token = sign({ sub: 'a', exp: 2_000 });
    expect(verifier.verify(token).sub).toBe('a');
    set(2_006);
    expect(reasonOf(() => verifier.verify(token))).toBe('expired');
  });

  it('accepts every secret of a rotation and nothing else', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ secret: [SECRET, OLD], clock });
    expect(verifier.verify(sign({ sub: 'a', exp: 2_000 }, OLD)).sub).toBe('a');
    expect(verifier.verify(sign({ sub: 'b', exp: 2_000 })).sub).toBe('b');
    expect(reasonOf(() => verifier.verify(sign({ sub: 'c', exp: 2_000 }, `${SECRET}x`)))).toBe(
      'bad_signature',
    );
  });

  it('stops at the first key when the token is expired rather than forged', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ secret: [OLD, SECRET], clock, clockToleranceSec: 0 });
    expect(reasonOf(() => verifier.verify(sign({ sub: 'a', exp: 900 })))).toBe('expired');
  });

  it('refuses alg none, forged, garbage and oversized tokens, with a reason and never the token', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ secret: SECRET, clock });
    const good = sign({ sub: 'a', exp: 2_000 });
    const [, body] = good.split('.');
    const cases: [string, string][] = [
      [`${b64({ alg: 'none', typ: 'JWT' })}.${body}.`, 'bad_algorithm'],
      [`${good.slice(0, -4)}AAAA`, 'bad_signature'],
      [
        `${b64({ alg: 'HS256' })}.${b64({ sub: 'admin', exp: 2_000 })}.${good.split('.')[2]}`,
        'bad_signature',
      ],
      ['not.a.token', 'malformed'],
      ['', 'missing_token'],
      [`${good}${'a'.repeat(9000)}`, 'malformed'],
      [`${b64({ alg: 'HS256', crit: ['exp'] })}.${body}.sig`, 'malformed'],
    ];
    for (const [token, reason] of cases) {
      const error = rejection(() => verifier.verify(token));
      expect(error.code, token.slice(0, 20)).toBe('UNAUTHORIZED');
      expect(error.metadata?.reason, token.slice(0, 20)).toBe(reason);
      if (token !== '') expect(JSON.stringify(error.metadata) + error.message).not.toContain(token);
    }
  });

  it('refuses tokens without a subject or an expiry, or with mistyped claims', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ secret: SECRET, clock });
    for (const [claims, claim] of [
      [{ email: 'a@b.c', exp: 2_000 }, 'sub'],
      [{ sub: '', exp: 2_000 }, 'sub'],
      [{ sub: 'a' }, 'exp'],
      [{ sub: 'a', exp: 2_000, role: 7 }, 'role'],
    ] as const) {
      const error = rejection(() => verifier.verify(sign(claims)));
      expect(error.metadata).toMatchObject({ reason: 'invalid_claims', claim });
    }
  });

  it('verifies RS256 and ES256 tokens with public keys and refuses the public key used as an HMAC secret', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ publicKeys: [rsaPem, ec.publicKey], clock });
    const rs = jwt.sign({ sub: 'u1', exp: 2_000 }, rsa.privateKey, { algorithm: 'RS256' });
    const es = jwt.sign({ sub: 'u2', exp: 2_000 }, ec.privateKey, { algorithm: 'ES256' });
    expect(verifier.verify(rs).sub).toBe('u1');
    expect(verifier.verify(es).sub).toBe('u2');
    // The classic confusion attack: HS256 keyed with the public key's PEM text.
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const body = rs.split('.')[1];
    const sig = createHmac('sha256', rsaPem).update(`${header}.${body}`).digest('base64url');
    expect(reasonOf(() => verifier.verify(`${header}.${body}.${sig}`))).toBe('bad_algorithm');
    // And a secret-only verifier has no RS256 key to try.
    const hmacOnly = createUserTokenVerifier({ secret: SECRET, clock });
    expect(reasonOf(() => hmacOnly.verify(rs))).toBe('bad_algorithm');
  });

  it('never caches a refused token, and keeps the cache bounded without changing answers', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ secret: SECRET, clock, cacheSize: 2 });
    const forged = `${sign({ sub: 'a', exp: 2_000 }).slice(0, -2)}xx`;
    for (let i = 0; i < 2; i++) expect(reasonOf(() => verifier.verify(forged))).toBe('bad_signature');
    const tokens = ['a', 'b', 'c'].map((sub) => sign({ sub, exp: 2_000 }));
    const first = tokens.map((t) => verifier.verify(t));
    // 'a' was evicted (verified again: a new object), 'c' is still cached.
    expect(verifier.verify(tokens[0]!)).not.toBe(first[0]);
    expect(verifier.verify(tokens[0]!)).toEqual(first[0]);
    expect(verifier.verify(tokens[2]!)).toBe(first[2]);
  });

  it('with cacheSize 0 checks every time', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({ secret: SECRET, clock, cacheSize: 0 });
    const token = sign({ sub: 'a', exp: 2_000 });
    expect(verifier.verify(token)).not.toBe(verifier.verify(token));
  });

  it('refuses a token whose iss or aud is not the expected one', () => {
    const { clock } = clockAt(1_000);
    const verifier = createUserTokenVerifier({
      secret: SECRET,
      clock,
      issuer: 'user-service',
      audience: 'kadai',
    });
    expect(verifier.verify(sign({ sub: 'a', exp: 2_000, iss: 'user-service', aud: 'kadai' })).sub).toBe('a');
    expect(reasonOf(() => verifier.verify(sign({ sub: 'a', exp: 2_000, iss: 'evil', aud: 'kadai' })))).toBe(
      'wrong_issuer',
    );
    expect(reasonOf(() => verifier.verify(sign({ sub: 'a', exp: 2_000, iss: 'user-service' })))).toBe(
      'wrong_audience',
    );
  });

  it('refuses bad options with BAD_REQUEST naming the field, never echoing a secret', () => {
    expect(badRequest(() => createUserTokenVerifier({ secret: 'TOPSECRET' }))).toMatchObject({
      field: 'secret',
      message: expect.stringMatching(/at least 32 bytes/),
    });
    expect(badRequest(() => createUserTokenVerifier({ secret: 'TOPSECRET' })).message).not.toContain(
      'TOPSECRET',
    );
    expect(badRequest(() => createUserTokenVerifier({ secret: [SECRET, 'short'] })).field).toBe('secret.1');
    expect(badRequest(() => createUserTokenVerifier({})).message).toMatch(/secret or publicKeys/);
    expect(
      badRequest(() => createUserTokenVerifier({ secret: SECRET, publicKeys: [rsaPem] })).message,
    ).toMatch(/exactly one/);
    expect(badRequest(() => createUserTokenVerifier({ publicKeys: ['not a key'] })).field).toBe(
      'publicKeys.0',
    );
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(badRequest(() => createUserTokenVerifier({ publicKeys: [weak] })).message).toMatch(/2048/);
    expect(badRequest(() => createUserTokenVerifier({ secret: SECRET, clockToleranceSec: -1 })).field).toBe(
      'clockToleranceSec',
    );
    expect(badRequest(() => createUserTokenVerifier({ secret: SECRET, cacheSize: 1.5 })).field).toBe(
      'cacheSize',
    );
  });

  it('turns a failing clock into a ServiceError', () => {
    const clock = {
      now: () => {
        throw new Error('broken');
      },
      setTimeout: () => 0,
      clearTimeout: () => undefined,
    };
    const verifier = createUserTokenVerifier({ secret: SECRET, clock });
    expect(rejection(() => verifier.verify(sign({ sub: 'a', exp: 2_000 }))).code).toBe('INTERNAL_ERROR');
  });
});
