import { ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createServiceAuth } from './service-auth';
import { ServiceAuthManager } from './service-auth-manager';
import { rejection } from './test-helpers';

const JWT_SECRET = 'http-test-jwt-secret-0123456789-abcdefghijklmnop';
const SERVICE_SECRET = 'http-test-service-secret-0123456789-abcdefghijk';

function fixedClock(start: number) {
  let now = start;
  return { clock: { now: () => now, setTimeout, clearTimeout }, advance: (ms: number) => (now += ms) };
}

describe('createServiceAuth', () => {
  it('creates a bearer header bound to the target service, cached until near expiry', () => {
    const { clock, advance } = fixedClock(Date.now());
    const auth = createServiceAuth({
      serviceName: 'auth-service',
      serviceSecret: SERVICE_SECRET,
      jwtSecret: JWT_SECRET,
      tokenExpirySeconds: 100,
      clock,
    });
    const header = auth.createAuthHeader('access-service');
    expect(Object.keys(header)).toEqual(['Authorization']);
    expect(header.Authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = jwt.decode(header.Authorization.slice(7)) as Record<string, unknown>;
    expect(claims).toMatchObject({
      serviceName: 'auth-service',
      sub: auth.serviceId,
      aud: 'access-service',
      permissions: ['internal:*'],
    });
    expect(auth.serviceId).toMatch(/^auth-service-[0-9a-f-]{36}$/);
    // Same token, same object, while more than 20% of the lifetime is left.
    advance(79_000);
    expect(auth.createAuthHeader('access-service')).toBe(header);
    advance(2_000);
    const renewed = auth.createAuthHeader('access-service');
    expect(renewed.Authorization).not.toBe(header.Authorization);
    // Another target, another audience.
    expect(jwt.decode(auth.createAuthHeader('billing').Authorization.slice(7))).toMatchObject({
      aud: 'billing',
    });
  });

  it('signs with a key derived from both secrets: the JWT secret alone neither verifies nor mints', () => {
    const auth = createServiceAuth({
      serviceName: 'a',
      serviceSecret: SERVICE_SECRET,
      jwtSecret: JWT_SECRET,
    });
    const token = auth.createAuthHeader('b').Authorization.slice(7);
    expect(() => jwt.verify(token, JWT_SECRET)).toThrow(/invalid signature/);
    expect(() => jwt.verify(token, SERVICE_SECRET)).toThrow(/invalid signature/);
    const b = createServiceAuth({ serviceName: 'b', serviceSecret: SERVICE_SECRET, jwtSecret: JWT_SECRET });
    expect(b.verify(token)).toMatchObject({ name: 'a', id: auth.serviceId, permissions: ['internal:*'] });
    const userIssuer = new ServiceAuthManager({ jwtSecret: JWT_SECRET });
    const minted = userIssuer.generateServiceToken('x-1', 'x', ['*'], { audience: 'b' });
    expect(rejection(() => b.verify(minted)).metadata?.reason).toBe('bad_signature');
  });

  it('without serviceSecret, tokens are plain HS256 with the JWT secret, as ServiceAuthManager signs them', () => {
    const auth = createServiceAuth({ serviceName: 'a', jwtSecret: JWT_SECRET, permissions: ['asr:read'] });
    const token = auth.createAuthHeader('asr').Authorization.slice(7);
    const asr = new ServiceAuthManager({ jwtSecret: JWT_SECRET, audience: 'asr' });
    expect(asr.verifyServiceToken(token)).toMatchObject({ serviceName: 'a', permissions: ['asr:read'] });
    expect(auth.manager.canSign).toBe(true);
  });

  it('invalidateToken drops the cached token of one target or all', () => {
    let n = 0;
    const auth = createServiceAuth({ serviceName: 'a', jwtSecret: JWT_SECRET });
    auth.manager.on('tokenIssued', () => n++);
    auth.createAuthHeader('b');
    auth.createAuthHeader('c');
    auth.createAuthHeader('b');
    expect(n).toBe(2);
    auth.invalidateToken('b');
    auth.createAuthHeader('b');
    auth.createAuthHeader('c');
    expect(n).toBe(3);
    auth.invalidateToken();
    auth.createAuthHeader('b');
    auth.createAuthHeader('c');
    expect(n).toBe(5);
  });

  it.each([
    [{ jwtSecret: undefined }, 'jwtSecret', 'jwtSecret is required'],
    [{ jwtSecret: 'short' }, 'jwtSecret', 'at least 32 bytes'],
    [{ serviceSecret: 'short' }, 'serviceSecret', 'at least 32 bytes'],
    [{ serviceName: '' }, 'serviceName', 'serviceName must be a non-empty string'],
    [{ permissions: 'internal:read' }, 'permissions', 'must be an array of strings'],
    [{ tokenExpirySeconds: 0 }, 'tokenExpirySeconds', 'tokenExpirySeconds'],
    [{ colour: 'red' }, 'colour', "unknown option 'colour'"],
  ])('refuses %o with BAD_REQUEST naming the field', (patch, field, message) => {
    const error = rejection(() =>
      createServiceAuth({ serviceName: 'a', jwtSecret: JWT_SECRET, ...patch } as never),
    );
    expect(error.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(error.metadata?.field).toBe(field);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(JWT_SECRET);
  });

  it('refuses an empty target service by name', () => {
    const auth = createServiceAuth({ serviceName: 'a', jwtSecret: JWT_SECRET });
    const error = rejection(() => auth.createAuthHeader(''));
    expect(error.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(error.metadata?.field).toBe('targetService');
  });
});
