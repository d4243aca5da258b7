import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceAuthEvents } from './events';
import { ServiceAuthManager } from './service-auth-manager';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OTHER_SECRET = 'other-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** The reason of the UNAUTHORIZED ServiceError `fn` throws (fails the test otherwise). */
function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(isServiceError(error)).toBe(true);
    return (error as ServiceError).metadata?.reason;
  }
  throw new Error('expected a rejection');
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return {
    sub: 'ws-1',
    serviceId: 'ws-1',
    serviceName: 'websocket-server',
    permissions: ['asr:read'],
    iat,
    exp: iat + 600,
    ...overrides,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServiceAuthManager options', () => {
  it('accepts the seed options', () => {
    expect(() => new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 3600 })).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['short', 'short-secret'],
    ['31 bytes', 'x'.repeat(31)],
  ])('refuses an %s HS256 secret with BAD_REQUEST naming jwtSecret, never echoing it', (_, secret) => {
    const error = (() => {
      try {
        new ServiceAuthManager({ jwtSecret: secret, tokenExpirySeconds: 3600 });
      } catch (e) {
        return e as ServiceError;
      }
      throw new Error('no error');
    })();
    expect(error.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(error.message).toContain('jwtSecret');
    expect(error.metadata?.field).toBe('jwtSecret');
    if (secret !== '') expect(error.message).not.toContain(secret);
  });

  it('refuses a missing secret (an unset JWT_SECRET)', () => {
    const input = { jwtSecret: undefined, tokenExpirySeconds: 3600 };
    expect(() => new ServiceAuthManager(input)).toThrow(/jwtSecret is required/);
  });

  it('refuses bad numbers and unknown options, naming the field', () => {
    expect(() => new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 0 })).toThrow(
      /tokenExpirySeconds/,
    );
    expect(() => new ServiceAuthManager({ jwtSecret: SECRET, clockToleranceSeconds: -1 })).toThrow(
      /clockToleranceSeconds/,
    );
    expect(() => new ServiceAuthManager({ jwtSecret: SECRET, algorithm: 'HS512' as 'HS256' })).toThrow(
      /algorithm/,
    );
    expect(() => new ServiceAuthManager({ jwtSecret: SECRET, secret: 'x' } as never)).toThrow(
      /unknown option 'secret'/,
    );
  });

  it('refuses a signing algorithm other than the declared one', () => {
    expect(() => new ServiceAuthManager({ jwtSecret: SECRET, algorithm: 'RS256' })).toThrow(
      /algorithm is RS256/,
    );
  });
});

describe('generateServiceToken', () => {
  it('issues a standard JWT any library verifies with the shared secret', () => {
    const auth = new ServiceAuthManager({
      jwtSecret: SECRET,
      tokenExpirySeconds: 3600,
      issuer: 'clone-mesh',
    });
    const token = auth.generateServiceToken('ws-1', 'websocket-server', ['asr:read', 'llm:read'], {
      audience: 'asr',
    });
    const decoded = jwt.verify(token, SECRET, { algorithms: ['HS256'], complete: true });
    expect(decoded.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = decoded.payload as Record<string, unknown>;
    expect(payload).toMatchObject({
      sub: 'ws-1',
      serviceId: 'ws-1',
      serviceName: 'websocket-server',
      permissions: ['asr:read', 'llm:read'],
      iat: T0 / 1000,
      exp: T0 / 1000 + 3600,
      iss: 'clone-mesh',
      aud: 'asr',
    });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every token its own jti', () => {
    const auth = new ServiceAuthManager({ jwtSecret: SECRET });
    const a = jwt.decode(auth.generateServiceToken('ws-1', 'ws', [])) as { jti: string };
    const b = jwt.decode(auth.generateServiceToken('ws-1', 'ws', [])) as { jti: string };
    expect(a.jti).not.toBe(b.jti);
  });

  it('checks its arguments', () => {
    const auth = new ServiceAuthManager({ jwtSecret: SECRET });
    expect(() => auth.generateServiceToken('', 'ws', [])).toThrow(/serviceId/);
    expect(() => auth.generateServiceToken('ws-1', 'ws', 'asr:read' as never)).toThrow(/permissions/);
    expect(() => auth.generateServiceToken('ws-1', 'ws', [1] as never)).toThrow(/permissions\.0/);
  });

  it('emits tokenIssued without the token', () => {
    const auth = new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 60 });
    const events: ServiceAuthEvents['tokenIssued'][] = [];
    auth.on('tokenIssued', (e) => events.push(e));
    const token = auth.generateServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'asr' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      serviceId: 'ws-1',
      serviceName: 'ws',
      audience: 'asr',
      kid: undefined,
    });
    expect(events[0]!.expiresAt.getTime()).toBe(T0 + 60_000);
    expect(JSON.stringify(events[0])).not.toContain(token.split('.')[2]);
  });
});

describe('verifyServiceToken', () => {
  const auth = () => new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 3600 });

  it('returns the typed, frozen payload', () => {
    const m = auth();
    const payload = m.verifyServiceToken(m.generateServiceToken('ws-1', 'websocket-server', ['asr:read']));
    expect(payload).toMatchObject({
      serviceId: 'ws-1',
      serviceName: 'websocket-server',
      permissions: ['asr:read'],
    });
    expect(Object.isFrozen(payload)).toBe(true);
    expect(Object.isFrozen(payload.permissions)).toBe(true);
    expect(() => (payload.permissions as string[]).push('*')).toThrow();
  });

  it('accepts a token signed by a standard library with the shared secret', () => {
    const token = jwt.sign(claims(), SECRET, { algorithm: 'HS256' });
    expect(auth().verifyServiceToken(token).serviceName).toBe('websocket-server');
  });

  it('rejects a forged payload (signed with another secret): bad_signature', () => {
    const token = jwt.sign(claims({ permissions: ['*'] }), OTHER_SECRET, { algorithm: 'HS256' });
    expect(reasonOf(() => auth().verifyServiceToken(token))).toBe('bad_signature');
  });

  it('rejects tampered permissions: bad_signature', () => {
    const m = auth();
    const [h, p, s] = m.generateServiceToken('ws-1', 'ws', ['asr:read']).split('.');
    const body = JSON.parse(Buffer.from(p!, 'base64url').toString());
    body.permissions = ['*'];
    expect(reasonOf(() => m.verifyServiceToken(`${h}.${b64(body)}.${s}`))).toBe('bad_signature');
  });

  it("rejects alg 'none', with or without a signature: bad_algorithm", () => {
    const body = b64(claims());
    for (const token of [
      `${b64({ alg: 'none', typ: 'JWT' })}.${body}.`,
      `${b64({ alg: 'none' })}.${body}.abc`,
    ]) {
      expect(reasonOf(() => auth().verifyServiceToken(token))).toBe('bad_algorithm');
    }
    expect(reasonOf(() => auth().verifyServiceToken(`${b64({ alg: 'NONE' })}.${body}.`))).toBe(
      'bad_algorithm',
    );
  });

  it('rejects HS/RS confusion: an HS256 token signed with the RSA public key', () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const verifier = new ServiceAuthManager({ keys: [{ kid: 'rsa-1', publicKey: pem }] });
    const forged = jwt.sign(claims(), createSecretKey(Buffer.from(pem)), {
      algorithm: 'HS256',
      keyid: 'rsa-1',
    });
    expect(reasonOf(() => verifier.verifyServiceToken(forged))).toBe('bad_algorithm');
  });

  it('rejects other HMAC strengths: bad_algorithm', () => {
    const token = jwt.sign(claims(), SECRET, { algorithm: 'HS512' });
    expect(reasonOf(() => auth().verifyServiceToken(token))).toBe('bad_algorithm');
  });

  it('rejects an expired token once the clock tolerance has passed: expired', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 60, clockToleranceSeconds: 5 });
    const token = m.generateServiceToken('ws-1', 'ws', []);
    vi.advanceTimersByTime(64_000);
    expect(m.verifyServiceToken(token).serviceId).toBe('ws-1');
    vi.advanceTimersByTime(2_000);
    expect(reasonOf(() => m.verifyServiceToken(token))).toBe('expired');
  });

  it('never serves a cached verification at or past exp', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 60, clockToleranceSeconds: 0 });
    const token = m.generateServiceToken('ws-1', 'ws', []);
    m.verifyServiceToken(token); // cached
    vi.advanceTimersByTime(59_999);
    expect(m.verifyServiceToken(token).serviceId).toBe('ws-1');
    vi.advanceTimersByTime(1);
    expect(reasonOf(() => m.verifyServiceToken(token))).toBe('expired');
  });

  it('rejects a token before its nbf: not_before', () => {
    const token = jwt.sign(claims({ nbf: T0 / 1000 + 60 }), SECRET, { algorithm: 'HS256' });
    expect(reasonOf(() => auth().verifyServiceToken(token))).toBe('not_before');
  });

  it('rejects a token without exp: invalid_claims', () => {
    const { exp: _, ...noExp } = claims();
    const token = jwt.sign(noExp, SECRET, { algorithm: 'HS256' });
    expect(reasonOf(() => auth().verifyServiceToken(token))).toBe('invalid_claims');
  });

  it.each([
    ['permissions is a string', { permissions: 'asr:read' }],
    ['permissions holds a number', { permissions: ['asr:read', 1] }],
    ['permissions is missing', { permissions: undefined }],
    ['serviceName is missing', { serviceName: undefined }],
    ['sub differs from serviceId', { sub: 'someone-else' }],
    ['exp is a string', { exp: 'soon' }],
  ])('rejects a signed token whose %s: invalid_claims', (_, override) => {
    const token = jwt.sign(JSON.stringify(claims(override)), SECRET, { algorithm: 'HS256' });
    expect(reasonOf(() => auth().verifyServiceToken(token))).toBe('invalid_claims');
  });

  it('checks the audience when configured: wrong_audience', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, audience: 'asr' });
    expect(m.verifyServiceToken(m.generateServiceToken('ws-1', 'ws', [], { audience: 'asr' })).aud).toBe(
      'asr',
    );
    expect(
      reasonOf(() => m.verifyServiceToken(m.generateServiceToken('ws-1', 'ws', [], { audience: 'tts' }))),
    ).toBe('wrong_audience');
    // Without a per-token audience the configured one is used, so the manager accepts its own tokens.
    expect(m.verifyServiceToken(m.generateServiceToken('ws-1', 'ws', [])).aud).toBe('asr');
    const withoutAud = jwt.sign(claims(), SECRET, { algorithm: 'HS256' });
    expect(reasonOf(() => m.verifyServiceToken(withoutAud))).toBe('wrong_audience');
  });

  it('checks the issuer when configured: wrong_issuer', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, issuer: 'clone-mesh' });
    expect(m.verifyServiceToken(m.generateServiceToken('ws-1', 'ws', [])).iss).toBe('clone-mesh');
    const foreign = jwt.sign(claims({ iss: 'someone' }), SECRET, { algorithm: 'HS256' });
    expect(reasonOf(() => m.verifyServiceToken(foreign))).toBe('wrong_issuer');
    const none = jwt.sign(claims(), SECRET, { algorithm: 'HS256' });
    expect(reasonOf(() => m.verifyServiceToken(none))).toBe('wrong_issuer');
  });

  it.each([
    ['an empty string', '', 'missing_token'],
    ['undefined', undefined, 'missing_token'],
    ['a non-JWT', 'not-a-token', 'malformed'],
    ['two segments', 'abc.def', 'malformed'],
    ['a non-JSON header', `${b64('nope')}.${b64({})}.sig`, 'malformed'],
    ['an array header', `${b64([1])}.${b64({})}.sig`, 'malformed'],
    ['a header with crit', `${b64({ alg: 'HS256', crit: ['exp'] })}.${b64(claims())}.sig`, 'malformed'],
    ['a huge token', `${'a'.repeat(9000)}.b.c`, 'malformed'],
  ])('rejects %s: %s', (_, token, reason) => {
    expect(reasonOf(() => auth().verifyServiceToken(token as string))).toBe(reason);
  });

  it('never puts the token in the error, and keeps no raw jsonwebtoken error on top', () => {
    const m = auth();
    const token = jwt.sign(claims(), OTHER_SECRET, { algorithm: 'HS256' });
    try {
      m.verifyServiceToken(token);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceError);
      const e = error as ServiceError;
      expect(e.code).toBe(ServiceErrorCode.UNAUTHORIZED);
      expect(e.grpcStatus).toBe(16);
      const text = `${e.message} ${JSON.stringify(e.toJSON())} ${e.stack}`;
      for (const part of token.split('.')) expect(text).not.toContain(part);
    }
  });

  it('emits authFailure with the reason and the claimed service name', () => {
    const m = auth();
    const failures: ServiceAuthEvents['authFailure'][] = [];
    m.on('authFailure', (e) => failures.push(e));
    const token = jwt.sign(claims(), OTHER_SECRET, { algorithm: 'HS256' });
    expect(() => m.verifyServiceToken(token, { method: '/asr.ASRService/Transcribe' })).toThrow();
    expect(failures).toEqual([
      expect.objectContaining({
        reason: 'bad_signature',
        serviceName: 'websocket-server',
        method: '/asr.ASRService/Transcribe',
      }),
    ]);
    expect(JSON.stringify(failures)).not.toContain(token);
  });

  it('serves a repeat verification from the cache', () => {
    const m = auth();
    const token = m.generateServiceToken('ws-1', 'ws', ['asr:read']);
    expect(m.verifyServiceToken(token)).toBe(m.verifyServiceToken(token));
  });

  it('keeps the verified cache bounded', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, verifiedCacheSize: 2 });
    const tokens = [1, 2, 3].map((i) => m.generateServiceToken(`ws-${i}`, 'ws', []));
    const first = tokens.map((t) => m.verifyServiceToken(t));
    // The oldest was evicted: a new object; the two newest are still the cached ones.
    expect(m.verifyServiceToken(tokens[0]!)).not.toBe(first[0]);
    expect(m.verifyServiceToken(tokens[0]!)).toEqual(first[0]);
  });

  it('never verifies random strings, and only ever throws ServiceError UNAUTHORIZED', () => {
    const m = auth();
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (token) => {
        try {
          m.verifyServiceToken(token);
        } catch (error) {
          expect(isServiceError(error, ServiceErrorCode.UNAUTHORIZED)).toBe(true);
          expect((error as ServiceError).metadata?.reason).toEqual(expect.any(String));
          return;
        }
        throw new Error('a random string verified');
      }),
      { numRuns: 500 },
    );
  });

  it('never verifies random JWT-shaped strings', () => {
    const m = auth();
    const json = fc.jsonValue();
    const header = fc.record(
      {
        alg: fc.oneof(fc.constantFrom('HS256', 'RS256', 'ES256', 'none', 'HS512', 'None'), fc.string(), json),
        typ: fc.constantFrom('JWT', 'jwt', 'x'),
        kid: fc.oneof(fc.string(), json),
        crit: json,
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      fc.record(
        {
          sub: fc.string(),
          serviceId: fc.string(),
          serviceName: fc.string(),
          permissions: fc.oneof(fc.array(fc.string()), json),
          iat: fc.oneof(fc.integer(), json),
          exp: fc.oneof(fc.integer(), json),
        },
        { requiredKeys: [] },
      ),
      json,
    );
    const segment = fc.oneof(
      fc.base64String().map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')),
      fc.string(),
    );
    const token = fc.tuple(
      fc.oneof(header.map(b64), segment),
      fc.oneof(payload.map(b64), segment),
      fc.oneof(
        segment,
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a).toString('base64url')),
      ),
    );
    fc.assert(
      fc.property(token, ([h, p, s]) => {
        try {
          m.verifyServiceToken(`${h}.${p}.${s}`);
        } catch (error) {
          expect(isServiceError(error, ServiceErrorCode.UNAUTHORIZED)).toBe(true);
          return;
        }
        throw new Error('a random token verified');
      }),
      { numRuns: 1000 },
    );
  });

  it('never verifies a valid token with one header or payload character changed', () => {
    const m = auth();
    const token = m.generateServiceToken('ws-1', 'ws', ['asr:read']);
    const signed = token.lastIndexOf('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.nat({ max: signed - 1 }), fc.constantFrom(...alphabet), (at, ch) => {
        fc.pre(token[at] !== '.' && token[at] !== ch);
        const mutated = `${token.slice(0, at)}${ch}${token.slice(at + 1)}`;
        expect(() => m.verifyServiceToken(mutated)).toThrow(ServiceError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('key rotation', () => {
  const hs = (kid: string, secret = `${kid}-secret-0123456789-abcdefghijklmnop`) => ({ kid, secret });

  it('signs with the active key and verifies by kid', () => {
    const m = new ServiceAuthManager({ keys: [hs('k1'), hs('k2')], activeKid: 'k2' });
    const token = m.generateServiceToken('ws-1', 'ws', []);
    expect(jwt.decode(token, { complete: true })?.header.kid).toBe('k2');
    expect(m.verifyServiceToken(token).kid).toBe('k2');
    expect(m.activeKid).toBe('k2');
  });

  it('accepts tokens from a key still in the set and refuses those from a removed key', () => {
    const m = new ServiceAuthManager({ keys: [hs('k1')] });
    const old = m.generateServiceToken('ws-1', 'ws', []);
    m.verifyServiceToken(old); // now cached
    m.addKey(hs('k2'));
    m.setActiveKey('k2');
    const fresh = m.generateServiceToken('ws-1', 'ws', []);
    expect(m.verifyServiceToken(old).kid).toBe('k1');
    expect(m.verifyServiceToken(fresh).kid).toBe('k2');
    m.removeKey('k1');
    expect(reasonOf(() => m.verifyServiceToken(old))).toBe('unknown_kid');
    expect(m.verifyServiceToken(fresh).kid).toBe('k2');
    expect(m.getKeyIds()).toEqual(['k2']);
  });

  it('refuses to remove the active key or activate a missing one', () => {
    const m = new ServiceAuthManager({ keys: [hs('k1')] });
    expect(() => m.removeKey('k1')).toThrow(/active signing key/);
    expect(() => m.setActiveKey('nope')).toThrow(/not in the key set/);
    expect(() => m.addKey(hs('k1'))).toThrow(/already in the key set/);
  });

  it('verifies a kid-less token with the jwtSecret key, or with the only key of its algorithm', () => {
    const withSecret = new ServiceAuthManager({ jwtSecret: SECRET, keys: [hs('k1')] });
    expect(
      withSecret.verifyServiceToken(jwt.sign(claims(), SECRET, { algorithm: 'HS256' })).kid,
    ).toBeUndefined();
    const single = new ServiceAuthManager({ keys: [hs('k1', SECRET)] });
    expect(single.verifyServiceToken(jwt.sign(claims(), SECRET, { algorithm: 'HS256' })).serviceId).toBe(
      'ws-1',
    );
    const several = new ServiceAuthManager({ keys: [hs('k1', SECRET), hs('k2')] });
    expect(
      reasonOf(() => several.verifyServiceToken(jwt.sign(claims(), SECRET, { algorithm: 'HS256' }))),
    ).toBe('unknown_kid');
  });

  it('emits keySetChanged', () => {
    const m = new ServiceAuthManager({ keys: [hs('k1')] });
    const changes: ServiceAuthEvents['keySetChanged'][] = [];
    m.on('keySetChanged', (e) => changes.push(e));
    m.addKey(hs('k2'));
    m.setActiveKey('k2');
    m.removeKey('k1');
    expect(changes).toEqual([
      { change: 'added', kid: 'k2' },
      { change: 'activated', kid: 'k2' },
      { change: 'removed', kid: 'k1' },
    ]);
  });

  it('re-signs cached client tokens after the active key changes', () => {
    const m = new ServiceAuthManager({ keys: [hs('k1'), hs('k2')] });
    const before = m.getServiceToken('ws-1', 'ws', ['asr:read']);
    expect(m.getServiceToken('ws-1', 'ws', ['asr:read'])).toBe(before);
    m.setActiveKey('k2');
    const after = m.getServiceToken('ws-1', 'ws', ['asr:read']);
    expect(after).not.toBe(before);
    expect(jwt.decode(after, { complete: true })?.header.kid).toBe('k2');
  });
});

describe('asymmetric keys', () => {
  it.each([
    ['RS256', rsa],
    ['ES256', ec],
  ] as const)('%s: a verify-only service holds just the public JWKS', (alg, pair) => {
    const signer = new ServiceAuthManager({
      keys: [{ kid: `${alg}-1`, privateKey: pair.privateKey }],
      issuer: 'mesh',
    });
    const token = signer.generateServiceToken('ws-1', 'ws', ['asr:read']);
    expect(jwt.decode(token, { complete: true })?.header).toMatchObject({ alg, kid: `${alg}-1` });

    const jwks = signer.getPublicJwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: `${alg}-1`, alg, use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');

    const verifier = new ServiceAuthManager({ jwks: JSON.parse(JSON.stringify(jwks)), issuer: 'mesh' });
    expect(verifier.canSign).toBe(false);
    expect(verifier.verifyServiceToken(token).permissions).toEqual(['asr:read']);
    expect(() => verifier.generateServiceToken('x', 'x', [])).toThrow(/public keys only/);
    // A standard library verifies it with the public key too.
    expect(jwt.verify(token, pair.publicKey, { algorithms: [alg] })).toMatchObject({ serviceId: 'ws-1' });
  });

  it('never publishes HMAC secrets in the JWKS', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, keys: [{ kid: 'k1', secret: OTHER_SECRET }] });
    expect(m.getPublicJwks()).toEqual({ keys: [] });
  });

  it('refuses a token signed by another RSA key under the same kid: bad_signature', () => {
    const verifier = new ServiceAuthManager({ keys: [{ kid: 'r1', publicKey: rsa.publicKey }] });
    const forged = jwt.sign(claims(), rsa2.privateKey, { algorithm: 'RS256', keyid: 'r1' });
    expect(reasonOf(() => verifier.verifyServiceToken(forged))).toBe('bad_signature');
  });

  it('refuses an RS256 token presented to an ES256 key: bad_algorithm', () => {
    const verifier = new ServiceAuthManager({ keys: [{ kid: 'e1', publicKey: ec.publicKey }] });
    const token = jwt.sign(claims(), rsa.privateKey, { algorithm: 'RS256', keyid: 'e1' });
    expect(reasonOf(() => verifier.verifyServiceToken(token))).toBe('bad_algorithm');
  });

  it('accepts PEM and JWK material and checks it', () => {
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const jwk = ec.privateKey.export({ format: 'jwk' });
    const m = new ServiceAuthManager({
      keys: [
        { kid: 'r', privateKey: pem, publicKey: rsa.publicKey },
        { kid: 'e', privateKey: jwk, algorithm: 'ES256' },
      ],
    });
    expect(m.activeKid).toBe('r');
    expect(
      () => new ServiceAuthManager({ keys: [{ kid: 'x', privateKey: pem, publicKey: rsa2.publicKey }] }),
    ).toThrow(/not the public half/);
    expect(
      () => new ServiceAuthManager({ keys: [{ kid: 'x', privateKey: pem, algorithm: 'ES256' }] }),
    ).toThrow(/keys\.0\.algorithm is ES256/);
    expect(() => new ServiceAuthManager({ keys: [{ kid: 'x', privateKey: 'garbage' }] })).toThrow(
      /keys\.0\.privateKey is not a valid private key/,
    );
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => new ServiceAuthManager({ keys: [{ kid: 'x', privateKey: small.privateKey }] })).toThrow(
      /2048/,
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(() => new ServiceAuthManager({ keys: [{ kid: 'x', privateKey: p384.privateKey }] })).toThrow(
      /P-256/,
    );
    expect(() => new ServiceAuthManager({ keys: [{ kid: 'x', secret: SECRET, privateKey: pem }] })).toThrow(
      /give one/,
    );
  });
});

describe('client token cache', () => {
  it('caches per (audience, permissions) and re-signs with 20% of the lifetime left', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 100 });
    let issued = 0;
    m.on('tokenIssued', () => issued++);
    const a = m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'asr' });
    expect(m.getServiceToken('ws-1', 'ws', ['llm:read', 'asr:read'], { audience: 'asr' })).toBe(a);
    expect(m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'llm' })).not.toBe(a);
    expect(m.getServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'asr' })).not.toBe(a);
    expect(issued).toBe(3);
    vi.advanceTimersByTime(79_999);
    expect(m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'asr' })).toBe(a);
    vi.advanceTimersByTime(1);
    const b = m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'asr' });
    expect(b).not.toBe(a);
    expect(m.verifyServiceToken(b).exp).toBe(T0 / 1000 + 180);
  });

  it('a token provider signs once per refresh period and can be invalidated', () => {
    const m = new ServiceAuthManager({
      jwtSecret: SECRET,
      tokenExpirySeconds: 100,
      refreshBeforeExpiryRatio: 0.5,
    });
    const provider = m.createTokenProvider({
      serviceId: 'ws-1',
      serviceName: 'ws',
      permissions: ['asr:read'],
    });
    const a = provider.get();
    vi.advanceTimersByTime(49_000);
    expect(provider.get()).toBe(a);
    vi.advanceTimersByTime(1_000);
    const b = provider.get();
    expect(b).not.toBe(a);
    provider.invalidate();
    vi.advanceTimersByTime(1_000);
    expect(provider.get()).not.toBe(b);
  });
});
