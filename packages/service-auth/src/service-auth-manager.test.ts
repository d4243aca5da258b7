import { generateKeyPairSync } from 'node:crypto';
import { type ServiceError, ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceAuthEvents } from './events';
import { ServiceAuthManager } from './service-auth-manager';
import { claims, reasonOf } from './test-helpers';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OTHER_SECRET = 'other-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServiceAuthManager options', () => {
  it('accepts the documented minimum: jwtSecret and tokenExpirySeconds', () => {
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
