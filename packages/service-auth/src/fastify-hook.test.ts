import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAuthFastifyHook } from './fastify-hook';
import { createServiceAuth } from './service-auth';
import type { ServiceIdentity } from './service-identity';

const secrets = {
  jwtSecret: 'fastify-test-jwt-secret-0123456789-abcdefghijk',
  serviceSecret: 'fastify-test-service-secret-0123456789-abcdef',
};

describe('serviceAuthFastifyHook on a real Fastify server', () => {
  const server = createServiceAuth({ serviceName: 'access-service', ...secrets });
  const caller = createServiceAuth({
    serviceName: 'auth-service',
    ...secrets,
    permissions: ['internal:read'],
  });
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    app = Fastify();
    app.decorateRequest('serviceIdentity', null);
    app.register(
      async (internal) => {
        internal.addHook('onRequest', serviceAuthFastifyHook(server, ['internal:read']));
        internal.get(
          '/data',
          async (request) => (request as unknown as { serviceIdentity: ServiceIdentity }).serviceIdentity,
        );
        internal.get(
          '/admin',
          { onRequest: serviceAuthFastifyHook(server, ['internal:write']) },
          async () => 'ok',
        );
      },
      { prefix: '/internal' },
    );
    app.get('/public', async () => 'hello');
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('puts the caller on request.serviceIdentity', async () => {
    const res = await fetch(`${url}/internal/data`, { headers: caller.createAuthHeader('access-service') });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'auth-service',
      id: caller.serviceId,
      permissions: ['internal:read'],
    });
  });

  it('answers 401 in the gateway error format, echoing Fastify request ids', async () => {
    const res = await fetch(`${url}/internal/data`, { headers: { 'x-request-id': 'req_9' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="service"');
    expect(res.headers.get('x-request-id')).toBe('req_9');
    expect(await res.json()).toMatchObject({
      success: false,
      code: 'UNAUTHORIZED',
      statusCode: 401,
      requestId: 'req_9',
      details: { reason: 'missing_token' },
    });
    const anonymous = (await (await fetch(`${url}/internal/data`)).json()) as { requestId?: unknown };
    expect(anonymous.requestId).toEqual(expect.any(String));
  });

  it('answers 403 for a missing permission and leaves other routes alone', async () => {
    const res = await fetch(`${url}/internal/admin`, { headers: caller.createAuthHeader('access-service') });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'internal:write' } });
    expect(await (await fetch(`${url}/public`)).text()).toBe('hello');
  });
});
