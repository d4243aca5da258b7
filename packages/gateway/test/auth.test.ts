import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createUserTokenVerifier } from '@clone/service-auth';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, registryOf, SECRET, startGateway, startUpstream, stopUpstreams, userToken } from './support';

let g: Awaited<ReturnType<typeof startGateway>>;
let hits = () => 0;

beforeAll(async () => {
  const users = await startUpstream('users-1');
  hits = () => users.hits;
  g = await startGateway({
    routes: [
      { path: '/api/v1/auth/*', service: 'user-service', auth: false },
      { path: '/api/v1/users/*', service: 'user-service' },
    ],
    discovery: registryOf({ 'user-service': [users] }),
    auth: createUserTokenVerifier({ secret: SECRET }),
  });
});
afterAll(async () => {
  await g.close();
  await stopUpstreams();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('user authentication', () => {
  it('lets a valid token through and a public route without one', async () => {
    expect((await call(`${g.url}/api/v1/users/me`, { headers: bearer(userToken()) })).status).toBe(200);
    expect((await call(`${g.url}/api/v1/auth/login`, { method: 'POST', body: '{}' })).status).toBe(200);
  });

  it.each([
    ['no token', {}],
    [
      'a token signed with another secret',
      bearer(userToken({}, 'another-secret-that-is-long-enough-0123456789abcdef')),
    ],
    ['an expired token', bearer(userToken({ exp: Math.floor(Date.now() / 1000) - 60 }))],
    [
      'alg none',
      bearer(jwt.sign({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 }, '', { algorithm: 'none' })),
    ],
    [
      'a token with no subject',
      bearer(jwt.sign({ email: 'a@b.c' }, SECRET, { algorithm: 'HS256', expiresIn: 60 })),
    ],
    ['a token with no expiry', bearer(jwt.sign({ sub: 'x' }, SECRET, { algorithm: 'HS256' }))],
    ['garbage', { authorization: 'Bearer not.a.token' }],
    ['a Basic header', { authorization: 'Basic dXNlcjpwYXNz' }],
  ])('refuses %s with 401 in the error format, before the service sees it', async (_name, headers) => {
    const before = hits();
    const res = await call(`${g.url}/api/v1/users/me`, {
      headers: { ...headers, 'x-request-id': 'req_auth' },
    });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json).toMatchObject({
      success: false,
      code: 'UNAUTHORIZED',
      statusCode: 401,
      requestId: 'req_auth',
    });
    expect(hits()).toBe(before);
  });

  it('refuses an RS256 token whose public key is used as an HMAC secret', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const users = await startUpstream('users-rs256');
    const rs = await startGateway({
      routes: [{ path: '/api/v1/users/*', service: 'user-service' }],
      discovery: registryOf({ 'user-service': [users] }),
      auth: createUserTokenVerifier({ publicKeys: [pem] }),
    });
    try {
      const good = jwt.sign({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60 }, privateKey, {
        algorithm: 'RS256',
      });
      expect((await call(`${rs.url}/api/v1/users/me`, { headers: bearer(good) })).status).toBe(200);
      // The classic confusion attack: HS256 keyed with the public key's PEM text.
      const forgedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const body = good.split('.')[1];
      const sig = createHmac('sha256', pem).update(`${forgedHeader}.${body}`).digest('base64url');
      const forged = await call(`${rs.url}/api/v1/users/me`, {
        headers: bearer(`${forgedHeader}.${body}.${sig}`),
      });
      expect(forged.status).toBe(401);
      expect(users.hits).toBe(1);
    } finally {
      await rs.close();
    }
  });

  it('takes any { verify } as auth: its claims pass, its refusal is a 401', async () => {
    const users = await startUpstream('users-custom');
    const seen: string[] = [];
    const custom = await startGateway({
      routes: [{ path: '/api/v1/users/*', service: 'user-service' }],
      discovery: registryOf({ 'user-service': [users] }),
      auth: {
        verify(token: string) {
          seen.push(token);
          if (token !== 'opaque-ok')
            throw new ServiceError(ServiceErrorCode.UNAUTHORIZED, 'unknown session', undefined, {
              retryable: false,
            });
          return { sub: 'u-custom', exp: Math.floor(Date.now() / 1000) + 60 };
        },
      },
    });
    try {
      expect((await call(`${custom.url}/api/v1/users/me`, { headers: bearer('opaque-ok') })).status).toBe(
        200,
      );
      expect((await call(`${custom.url}/api/v1/users/me`, { headers: bearer('opaque-no') })).status).toBe(
        401,
      );
      expect(seen).toEqual(['opaque-ok', 'opaque-no']);
      expect(users.hits).toBe(1);
    } finally {
      await custom.close();
    }
  });
});
