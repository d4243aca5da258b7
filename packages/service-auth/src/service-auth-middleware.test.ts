import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceAuthEvents } from './events';
import { createServiceAuth } from './service-auth';
import { serviceAuthMiddleware } from './service-auth-middleware';
import type { ServiceAuthenticatedRequest } from './service-identity';
import { b64, claims, listen, miniApp, rejection } from './test-helpers';

const JWT_SECRET = 'http-test-jwt-secret-0123456789-abcdefghijklmnop';
const SERVICE_SECRET = 'http-test-service-secret-0123456789-abcdefghijk';
const secrets = { jwtSecret: JWT_SECRET, serviceSecret: SERVICE_SECRET };

describe('serviceAuthMiddleware on a real node:http server, mounted Express-style', () => {
  const server = createServiceAuth({ serviceName: 'access-service', ...secrets });
  const caller = createServiceAuth({
    serviceName: 'auth-service',
    ...secrets,
    permissions: ['internal:read'],
  });
  const failures: ServiceAuthEvents['authFailure'][] = [];
  server.manager.on('authFailure', (e) => failures.push(e));
  const app = miniApp();
  app.use('/internal', serviceAuthMiddleware(server, ['internal:read']));
  app.use('/internal/admin', serviceAuthMiddleware(server, ['internal:write']));
  app.get('/internal/data', (req: IncomingMessage & ServiceAuthenticatedRequest, res: ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.serviceIdentity));
  });
  app.get('/internal/admin/purge', (_req, res) => res.end('purged'));
  app.get('/public', (_req, res) => res.end('hello'));
  let http: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    http = await listen((req, res) => app.handle(req, res));
  });
  afterAll(() => http.close());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${http.url}${path}`, { headers });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
  };

  it('lets a token for this service through and puts the caller on req.serviceIdentity', async () => {
    const r = await get('/internal/data', caller.createAuthHeader('access-service'));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: 'auth-service',
      id: caller.serviceId,
      permissions: ['internal:read'],
      token: { aud: 'access-service' },
    });
  });

  it('leaves routes outside the mount point alone', async () => {
    expect((await get('/public')).body).toBe('hello');
  });

  it('answers a request without a token 401 in the gateway error format, echoing X-Request-ID', async () => {
    const r = await get('/internal/data', { 'x-request-id': 'req_123' });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="service"');
    expect(r.headers.get('x-request-id')).toBe('req_123');
    expect(r.body).toEqual({
      success: false,
      error: expect.stringContaining('missing_token'),
      code: ServiceErrorCode.UNAUTHORIZED,
      statusCode: 401,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestId: 'req_123',
      details: { reason: 'missing_token' },
    });
    expect(failures.at(-1)).toMatchObject({ reason: 'missing_token', method: 'GET /internal/data' });
  });

  const forged = () => {
    const other = createServiceAuth({ serviceName: 'auth-service', jwtSecret: `${JWT_SECRET}-other` });
    return other.createAuthHeader('access-service');
  };
  const expired = () => {
    const past = Date.now() - 2 * 3600_000;
    const old = createServiceAuth({
      serviceName: 'auth-service',
      ...secrets,
      clock: { now: () => past, setTimeout, clearTimeout },
    });
    return old.createAuthHeader('access-service');
  };
  const algNone = () => ({
    Authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims({ aud: 'access-service' }))}.`,
  });
  const hs256WithJwtSecretOnly = () => ({
    Authorization: `Bearer ${jwt.sign(claims({ aud: 'access-service' }), JWT_SECRET, { algorithm: 'HS256' })}`,
  });

  it.each([
    ['a forged token (another secret)', forged, 'bad_signature'],
    ['an expired token', expired, 'expired'],
    ['an alg:none token', algNone, 'bad_algorithm'],
    ['a token signed with the JWT secret alone', hs256WithJwtSecretOnly, 'bad_signature'],
    ['a token for another service', () => caller.createAuthHeader('billing-service'), 'wrong_audience'],
    ['a Basic header', () => ({ Authorization: 'Basic dXNlcjpwYXNz' }), 'malformed'],
    ['garbage', () => ({ Authorization: 'Bearer not.a.jwt' }), 'malformed'],
  ])('refuses %s with 401 (%s)', async (_name, header, reason) => {
    const r = await get('/internal/data', header());
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="service", error="invalid_token"');
    expect(r.body).toMatchObject({
      success: false,
      code: 'UNAUTHORIZED',
      statusCode: 401,
      details: { reason },
    });
    expect(r.body.error).not.toContain(header().Authorization.slice(7) || '§');
    expect(failures.at(-1)?.reason).toBe(reason);
  });

  it('refuses a valid token lacking a required permission with 403 naming it', async () => {
    const r = await get('/internal/admin/purge', caller.createAuthHeader('access-service'));
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toBeNull();
    expect(r.body).toMatchObject({
      success: false,
      code: 'FORBIDDEN',
      statusCode: 403,
      error: "Service 'auth-service' lacks permission 'internal:write' required by GET /internal/admin/purge",
      details: { reason: 'missing_permission', permission: 'internal:write' },
    });
    expect(failures.at(-1)).toMatchObject({ reason: 'missing_permission', serviceName: 'auth-service' });
    const admin = createServiceAuth({ serviceName: 'ops', ...secrets });
    expect((await get('/internal/admin/purge', admin.createAuthHeader('access-service'))).body).toBe(
      'purged',
    );
  });

  it('never leaks the query string into events', async () => {
    await get('/internal/data?secret=1');
    expect(failures.at(-1)?.method).toBe('GET /internal/data');
  });

  it('labels a request by its full path when mounted Express-style (originalUrl)', async () => {
    const guard = serviceAuthMiddleware(server);
    const mounted = await listen((req, res) => {
      // What Express does under app.use('/internal', …): url relative, originalUrl whole.
      Object.assign(req, { originalUrl: req.url, url: (req.url ?? '/').slice('/internal'.length) });
      guard(req, res, () => res.end('ok'));
    });
    try {
      expect((await fetch(`${mounted.url}/internal/data?x=1`)).status).toBe(401);
      expect(failures.at(-1)?.method).toBe('GET /internal/data');
    } finally {
      await mounted.close();
    }
  });

  it('authenticate(req, res) is the boolean form for plain node:http handlers', async () => {
    const guard = serviceAuthMiddleware(server);
    const plain = await listen((req, res) => {
      if (!guard.authenticate(req, res)) return;
      res.end((req as IncomingMessage & ServiceAuthenticatedRequest).serviceIdentity.name);
    });
    try {
      const ok = await fetch(plain.url, { headers: caller.createAuthHeader('access-service') });
      expect(await ok.text()).toBe('auth-service');
      expect((await fetch(plain.url)).status).toBe(401);
    } finally {
      await plain.close();
    }
  });

  it('refuses bad arguments with BAD_REQUEST naming them', () => {
    expect(rejection(() => serviceAuthMiddleware({} as never)).metadata?.field).toBe('serviceAuth');
    expect(rejection(() => serviceAuthMiddleware(server, ['ok', ''])).metadata?.field).toBe('permissions');
    expect(rejection(() => serviceAuthMiddleware(server, 'internal:read' as never)).metadata?.field).toBe(
      'permissions',
    );
    expect(
      rejection(() => serviceAuthMiddleware(server, [], { exposeDetail: true } as never)).metadata?.field,
    ).toBe('exposeDetail');
  });

  it('keeps details out of the body when exposeDetails is false', async () => {
    const quiet = serviceAuthMiddleware(server, [], { exposeDetails: false });
    const plain = await listen((req, res) => quiet(req, res, () => res.end('ok')));
    try {
      const body = (await (await fetch(plain.url)).json()) as Record<string, unknown>;
      expect(body.details).toBeUndefined();
      expect(body.code).toBe('UNAUTHORIZED');
    } finally {
      await plain.close();
    }
  });
});
