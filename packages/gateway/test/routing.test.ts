import { createUserTokenVerifier } from '@clone/service-auth';
import { createRegistryHttpApi } from '@clone/service-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { call, registryOf, SECRET, startGateway, startUpstream, stopUpstreams, userToken } from './support';

afterEach(stopUpstreams);

const routes = [
  { path: '/api/v1/auth/*', service: 'user-service', auth: false },
  { path: '/api/v1/users/*', service: 'user-service', auth: true },
  { path: '/api/v1/orders/*', service: 'order-service', auth: true },
];

async function setup() {
  const users = await startUpstream('users-1');
  const orders = await startUpstream('orders-1');
  const g = await startGateway({
    routes,
    discovery: registryOf({ 'user-service': [users], 'order-service': [orders] }),
    auth: createUserTokenVerifier({ secret: SECRET }),
  });
  return { users, orders, ...g };
}

describe('routing', () => {
  it('sends each prefix to its service with /api/v1 cut off and the query kept', async () => {
    const { url, close } = await setup();
    try {
      const token = userToken();
      const users = await call(`${url}/api/v1/users/profile?x=1&y=2`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(users.status).toBe(200);
      expect(users.json).toMatchObject({ instance: 'users-1', method: 'GET', url: '/users/profile?x=1&y=2' });
      const orders = await call(`${url}/api/v1/orders`, { headers: { authorization: `Bearer ${token}` } });
      expect(orders.json).toMatchObject({ instance: 'orders-1', url: '/orders' });
      const login = await call(`${url}/api/v1/auth/login`, { method: 'POST', body: '{"email":"a@b.c"}' });
      expect(login.json).toMatchObject({
        instance: 'users-1',
        method: 'POST',
        url: '/auth/login',
        body: '{"email":"a@b.c"}',
      });
    } finally {
      await close();
    }
  });

  it('matches whole path segments only and answers 404 in the error format otherwise', async () => {
    const { url, close } = await setup();
    try {
      const res = await call(`${url}/api/v1/usersX/1`, { headers: { 'x-request-id': 'req_1' } });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({
        success: false,
        code: 'NOT_FOUND',
        statusCode: 404,
        requestId: 'req_1',
      });
      expect(typeof res.json.timestamp).toBe('string');
    } finally {
      await close();
    }
  });

  it('forwards X-Request-ID (made when absent), X-Gateway-Service, X-Forwarded-For and Authorization', async () => {
    const { url, close } = await setup();
    try {
      const token = userToken();
      const given = await call(`${url}/api/v1/users/me`, {
        headers: {
          authorization: `Bearer ${token}`,
          'x-request-id': 'req_123456789',
          'x-forwarded-for': '203.0.113.7',
        },
      });
      expect(given.headers['x-request-id']).toBe('req_123456789');
      expect(given.json.headers).toMatchObject({
        'x-request-id': 'req_123456789',
        'x-gateway-service': 'user-service',
        'x-forwarded-for': '203.0.113.7, 127.0.0.1',
        authorization: `Bearer ${token}`,
      });
      const made = await call(`${url}/api/v1/auth/x`, { headers: { 'x-request-id': 'bad id with spaces' } });
      const id = made.json.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(made.json.headers['x-forwarded-for']).toBe('127.0.0.1');
    } finally {
      await close();
    }
  });

  it('streams a large request body up and a large response body down', async () => {
    const big = await startUpstream('big', (_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(body.split('').reverse().join('') + 'x'.repeat(2_000_000));
    });
    const g = await startGateway({
      routes: [{ path: '/api/v1/files/*', service: 'files', auth: false }],
      discovery: registryOf({ files: [big] }),
    });
    try {
      const payload = 'ab'.repeat(500_000);
      const res = await call(`${g.url}/api/v1/files/up`, { method: 'PUT', body: payload });
      expect(res.status).toBe(200);
      expect(res.text.length).toBe(3_000_000);
      expect(res.text.startsWith('ba')).toBe(true);
    } finally {
      await g.close();
    }
  });

  it('cancels the upstream request when the client goes away', async () => {
    let arrived!: () => void;
    const arrivedP = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let cancelled!: () => void;
    const cancelledP = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const hanging = await startUpstream('hanging', (_req, res) => {
      res.once('close', cancelled);
      arrived();
    });
    const g = await startGateway({
      routes: [{ path: '/api/v1/slow/*', service: 'slow', auth: false }],
      discovery: registryOf({ slow: [hanging] }),
    });
    try {
      const controller = new AbortController();
      const pending = call(`${g.url}/api/v1/slow/x`, { signal: controller.signal }).catch(() => 'aborted');
      await arrivedP;
      controller.abort();
      expect(await pending).toBe('aborted');
      await cancelledP;
      expect(hanging.hits).toBe(1);
    } finally {
      await g.close();
    }
  });

  it('answers the built-in endpoints', async () => {
    const { url, close } = await setup();
    try {
      const health = await call(`${url}/api/v1/health`);
      expect(health.status).toBe(200);
      expect(health.json).toMatchObject({ success: true, data: { status: 'healthy' } });
      const detailed = await call(`${url}/api/v1/health/detailed`);
      expect(detailed.json.data.services.map((s: { name: string }) => s.name).sort()).toEqual([
        'order-service',
        'user-service',
      ]);
      expect(detailed.json.data.services[0].instances[0].state).toBe('healthy');
      const status = await call(`${url}/api/v1/gateway/status`);
      expect(status.json.data).toMatchObject({ status: 'running', routes: 3 });
      expect(status.json.data.requests).toBeGreaterThanOrEqual(3);
      const services = await call(`${url}/api/v1/gateway/services`);
      expect(services.json.data.routes).toContainEqual({
        path: '/api/v1/users/*',
        service: 'user-service',
        auth: true,
      });
      expect(
        services.json.data.services.find((s: { name: string }) => s.name === 'order-service').instances[0]
          .serviceId,
      ).toBe('orders-1');
    } finally {
      await close();
    }
  });

  it('answers 503 when a service has no instance, and says so in health', async () => {
    const users = await startUpstream('users-1');
    const g = await startGateway({
      routes: [
        { path: '/api/v1/users/*', service: 'user-service', auth: false },
        { path: '/api/v1/ai/*', service: 'ai-service', auth: false },
      ],
      discovery: registryOf({ 'user-service': [users] }),
    });
    try {
      const res = await call(`${g.url}/api/v1/ai/chat`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({
        success: false,
        code: 'SERVICE_UNAVAILABLE',
        error: 'No healthy instance of ai-service',
      });
      expect((await call(`${g.url}/api/v1/health`)).json.data.status).toBe('degraded');
    } finally {
      await g.close();
    }
  });

  it('mounts the registry HTTP API: a service registers through the gateway and is routed to', async () => {
    const registry = registryOf({});
    const api = createRegistryHttpApi(registry, { prefix: '/api/v1/registry' });
    const g = await startGateway({
      routes: [{ path: '/api/v1/notifications/*', service: 'notification-service', auth: false }],
      discovery: registry,
      mounts: [api],
    });
    try {
      expect((await call(`${g.url}/api/v1/notifications/x`)).status).toBe(503);
      const notifications = await startUpstream('notifications-1');
      const registered = await call(`${g.url}/api/v1/registry/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'notification-service', port: notifications.port, version: '1.0.0' }),
      });
      expect(registered.status).toBe(201);
      const routed = await call(`${g.url}/api/v1/notifications/send`, { method: 'POST', body: '{}' });
      expect(routed.json).toMatchObject({ instance: 'notifications-1', url: '/notifications/send' });
      const services = await call(`${g.url}/api/v1/gateway/services`);
      expect(services.json.data.services[0].instances[0].version).toBe('1.0.0');
    } finally {
      api.close();
      await g.close();
    }
  });
});
