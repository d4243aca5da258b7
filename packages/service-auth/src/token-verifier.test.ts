import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceAuthEvents } from './events';
import { hasPermission } from './permissions';
import { ServiceAuthManager } from './service-auth-manager';
import { b64, claims, reasonOf, rejection } from './test-helpers';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OTHER_SECRET = 'other-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW = T0 / 1000;
const YEAR = 365 * 86_400;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** Signs exactly these claims with jsonwebtoken (as text, so it adds no `iat` of its own). */
const sign = (c: Record<string, unknown> | string) =>
  jwt.sign(typeof c === 'string' ? c : JSON.stringify(c), SECRET, { algorithm: 'HS256' });

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
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

describe('token lifetime bound', () => {
  const auth = () => new ServiceAuthManager({ jwtSecret: SECRET });

  it('refuses a correctly signed token whose exp is 100 years away: lifetime_too_long', () => {
    const token = sign(claims({ exp: NOW + 100 * YEAR }));
    expect(jwt.verify(token, SECRET)).toMatchObject({ serviceId: 'ws-1' }); // the signature is fine
    const error = rejection(() => auth().verifyServiceToken(token));
    expect(error.code).toBe(ServiceErrorCode.UNAUTHORIZED);
    expect(error.metadata).toMatchObject({ reason: 'lifetime_too_long', claim: 'exp' });
    expect(error.message).toMatch(/maxTokenLifetimeSeconds \(86400\)/);
  });

  it('accepts a lifetime of exactly the maximum and refuses one second more', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, maxTokenLifetimeSeconds: 600 });
    expect(m.verifyServiceToken(sign(claims({ exp: NOW + 600 }))).exp).toBe(NOW + 600);
    expect(reasonOf(() => m.verifyServiceToken(sign(claims({ exp: NOW + 601 }))))).toBe('lifetime_too_long');
  });

  it('measures the lifetime from iat, so an old iat cannot stretch it', () => {
    const token = sign(claims({ iat: NOW - 10 * YEAR, exp: NOW + 60 }));
    expect(reasonOf(() => auth().verifyServiceToken(token))).toBe('lifetime_too_long');
  });

  it('refuses a token without iat, however far its exp: invalid_claims', () => {
    const { iat: _, ...noIat } = claims({ exp: NOW + 100 * YEAR });
    const error = rejection(() => auth().verifyServiceToken(sign({ ...noIat })));
    expect(error.metadata).toMatchObject({ reason: 'invalid_claims', claim: 'iat' });
  });

  it('refuses iat later than now plus the clock tolerance: issued_in_future', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, clockToleranceSeconds: 5 });
    expect(m.verifyServiceToken(sign(claims({ iat: NOW + 5, exp: NOW + 600 }))).iat).toBe(NOW + 5);
    const error = rejection(() => m.verifyServiceToken(sign(claims({ iat: NOW + 3600, exp: NOW + 7200 }))));
    expect(error.metadata).toMatchObject({ reason: 'issued_in_future', claim: 'iat' });
  });
});

describe('audience required per call', () => {
  it('refuses a token for another audience or without one, cached or not: wrong_audience', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET });
    const forAsr = m.generateServiceToken('ws-1', 'ws', [], { audience: 'asr' });
    const forTts = m.generateServiceToken('ws-1', 'ws', [], { audience: 'tts' });
    const none = m.generateServiceToken('ws-1', 'ws', []);
    expect(m.verifyServiceToken(forAsr, { audience: 'asr' }).aud).toBe('asr');
    // Verified (and cached) without a required audience first: the cache must not bypass it.
    expect(m.verifyServiceToken(forTts).aud).toBe('tts');
    expect(reasonOf(() => m.verifyServiceToken(forTts, { audience: 'asr' }))).toBe('wrong_audience');
    expect(reasonOf(() => m.verifyServiceToken(none, { audience: 'asr' }))).toBe('wrong_audience');
    const listed = sign(claims({ aud: ['tts', 'asr'] }));
    expect(m.verifyServiceToken(listed, { audience: 'asr' }).aud).toEqual(['tts', 'asr']);
  });
});

describe('reserved claim names', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses a signed token with a %s claim', (name) => {
    const body = JSON.stringify(claims()).replace(/^\{/, `{"${name}":{"aud":"asr","jti":"smuggled"},`);
    const error = rejection(() =>
      new ServiceAuthManager({ jwtSecret: SECRET }).verifyServiceToken(sign(body)),
    );
    expect(error.metadata).toMatchObject({ reason: 'invalid_claims', claim: name });
  });

  it('keeps __proto__ and constructor permissions as plain strings that grant nothing else', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET });
    const payload = m.verifyServiceToken(m.generateServiceToken('ws-1', 'ws', ['__proto__', 'constructor']));
    expect(payload.permissions).toEqual(['__proto__', 'constructor']);
    expect(m.hasPermission(payload, 'constructor')).toBe(true);
    expect(m.hasPermission(payload, 'asr:read')).toBe(false);
    expect(m.hasPermission(payload, 'toString')).toBe(false);
    expect(hasPermission({ permissions: [] }, 'constructor')).toBe(false);
  });
});
