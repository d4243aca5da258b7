import { generateKeyPairSync } from 'node:crypto';
import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { importJwks, importKey, importSecret, KeySet } from './key-set';

const SECRET = 'key-set-secret-0123456789-abcdefghijklmnop';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected BAD_REQUEST');
}

describe('key import', () => {
  it('accepts secrets as string, bytes, KeyObject and oct JWK, all ≥ 32 bytes', () => {
    const bytes = Buffer.from(SECRET);
    for (const material of [
      SECRET,
      bytes,
      new Uint8Array(bytes),
      { kty: 'oct', k: bytes.toString('base64url') },
    ]) {
      expect(importSecret(material, 'secret').symmetricKeySize).toBe(bytes.length);
    }
    expect(badRequest(() => importSecret({ kty: 'oct', k: 'c2hvcnQ' }, 'secret'))).toMatch(
      /at least 32 bytes/,
    );
    expect(badRequest(() => importSecret(42, 'secret'))).toMatch(/must be a string/);
    expect(badRequest(() => importSecret(ec.privateKey, 'secret'))).toMatch(/secret key for HS256/);
  });

  it('never echoes key material in its errors', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----';
    expect(badRequest(() => importKey({ kid: 'x', privateKey: pem }, 'keys.0'))).not.toContain('TOPSECRET');
    expect(badRequest(() => importSecret('TOPSECRET', 'jwtSecret'))).not.toContain('TOPSECRET');
  });

  it('imports a JWKS and requires kids', () => {
    const jwk = ec.publicKey.export({ format: 'jwk' });
    const [key] = importJwks({ keys: [{ ...jwk, kid: 'e1', alg: 'ES256', use: 'sig' }] }, 'jwks');
    expect(key).toMatchObject({ kid: 'e1', algorithm: 'ES256', signKey: undefined });
    expect(badRequest(() => importJwks({ keys: [jwk] }, 'jwks'))).toMatch(/jwks\.keys\.0\.kid/);
    expect(badRequest(() => importJwks({ keys: [{ ...jwk, kid: 'e', alg: 'RS256' }] }, 'jwks'))).toMatch(
      /is RS256/,
    );
    expect(badRequest(() => importJwks({ keys: [{ ...jwk, kid: 'e', use: 'enc' }] }, 'jwks'))).toMatch(/use/);
    expect(badRequest(() => importJwks([], 'jwks'))).toMatch(/JWKS object/);
  });
});

describe('KeySet.select', () => {
  const hs = importKey({ kid: 'h', secret: SECRET }, 'k');
  const es = importKey({ kid: 'e', privateKey: ec.privateKey }, 'k');
  const set = new KeySet([hs, es], undefined, undefined);

  it('picks by kid, pinned to the key algorithm', () => {
    expect(set.select('HS256', 'h')).toBe(hs);
    expect(set.select('ES256', 'e')).toBe(es);
    expect(set.select('HS256', 'e')).toBe('bad_algorithm');
    expect(set.select('ES256', 'nope')).toBe('unknown_kid');
    expect(set.select('none', 'h')).toBe('bad_algorithm');
    expect(set.select(undefined, 'h')).toBe('bad_algorithm');
    expect(set.select('HS256', 7)).toBe('malformed');
  });

  it('picks the only key of the algorithm for a kid-less token', () => {
    expect(set.select('HS256', undefined)).toBe(hs);
    expect(set.select('RS256', undefined)).toBe('unknown_kid');
  });

  it('defaults the active key to the first that can sign', () => {
    const verifyOnly = importKey({ kid: 'p', publicKey: ec.publicKey }, 'k');
    expect(new KeySet([verifyOnly, hs], undefined, undefined).active).toBe(hs);
    expect(new KeySet([verifyOnly], undefined, undefined).active).toBeUndefined();
    expect(() => new KeySet([verifyOnly], undefined, 'p')).toThrow(/cannot sign/);
  });
});
