import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceErrorCode, systemClock } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { thrown } from '../test/fixtures';
import { ServiceRegistry } from './registry';
import { createRegistryHttpApi, type RegistryHttpApiOptions } from './registry-http-api';

/** Time stands still until the test moves it; timers are real (and never reached by the tests). */
function steppedClock() {
  let now = 1_000_000;
  const clock = {
    now: () => now,
    setTimeout: systemClock.setTimeout,
    clearTimeout: systemClock.clearTimeout,
  };
  return {
    clock,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((close) => close()));
});

async function serve(options: RegistryHttpApiOptions = {}) {
  const { clock, advance } = steppedClock();
  const registry = new ServiceRegistry();
  const api = createRegistryHttpApi(registry, { ttlMs: 3_000, clock, ...options });
  const server: Server = createServer((req, res) => {
    if (!api.handle(req, res)) {
      res.statusCode = 418;
      res.end('not the registry');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  open.push(async () => {
    api.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await registry.close();
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_1' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
  return { api, registry, advance, call, url };
}

const authService = {
  name: 'auth-service',
  version: '1.0.0',
  port: 3001,
  metadata: { capabilities: ['authentication'] },
};

describe('registry HTTP API (real node:http server)', () => {
  it('registers in the design document shape, filling host and serviceId', async () => {
    const { call, registry } = await serve();
    const r = await call('POST', '/registry/instances', authService);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      success: true,
      data: {
        instance: {
          serviceId: 'auth-service-127.0.0.1:3001',
          serviceName: 'auth-service',
          host: '127.0.0.1',
          port: 3001,
          protocol: 'http',
          version: '1.0.0',
          metadata: { capabilities: ['authentication'] },
          weight: 1,
        },
        ttlMs: 3_000,
        expiresAt: new Date(1_003_000).toISOString(),
      },
    });
    expect(registry.discover('auth-service').map((i) => i.serviceId)).toEqual([
      'auth-service-127.0.0.1:3001',
    ]);
    expect((await call('GET', '/registry/services/auth-service')).body.data).toHaveLength(1);
    expect((await call('GET', '/registry/services')).body.data).toEqual([
      { name: 'auth-service', instances: 1, healthy: 1 },
    ]);
    expect((await call('GET', '/registry/services/nobody')).body).toEqual({ success: true, data: [] });
  });

  it('expires a registration that is not renewed, and renews one that is', async () => {
    const { call, advance, registry } = await serve();
    await call('POST', '/registry/instances', authService);
    await call('POST', '/registry/instances', { ...authService, port: 3002 });
    advance(2_000);
    const renewed = await call('PUT', '/registry/instances/auth-service-127.0.0.1:3001/heartbeat');
    expect(renewed.status).toBe(200);
    expect(renewed.body.data.expiresAt).toBe(new Date(1_005_000).toISOString());
    advance(1_500);
    expect(
      (await call('GET', '/registry/services/auth-service')).body.data.map((i: { port: number }) => i.port),
    ).toEqual([3001]);
    expect(registry.getInstances('auth-service')).toHaveLength(1);
    advance(1_500);
    const lapsed = await call('PUT', '/registry/instances/auth-service-127.0.0.1:3001/heartbeat');
    expect(lapsed.status).toBe(404);
    expect(lapsed.body).toMatchObject({
      success: false,
      code: ServiceErrorCode.NOT_FOUND,
      statusCode: 404,
      requestId: 'req_1',
      error: expect.stringContaining('register again'),
    });
    expect(registry.getInstances('auth-service')).toEqual([]);
  });

  it('sweep() expires without waiting for a request', async () => {
    const { call, advance, api, registry } = await serve();
    await call('POST', '/registry/instances', authService);
    advance(2_999);
    expect(api.sweep()).toEqual([]);
    advance(1);
    expect(api.sweep()).toEqual(['auth-service-127.0.0.1:3001']);
    expect(registry.getInstances('auth-service')).toEqual([]);
  });

  it('deregisters, and answers 404 for a registration it does not hold', async () => {
    const { call, registry } = await serve();
    registry.register({
      serviceId: 'gw-own',
      serviceName: 'auth-service',
      host: '10.0.0.1',
      port: 1,
      protocol: 'http',
    });
    await call('POST', '/registry/instances', authService);
    const r = await call('DELETE', '/registry/instances/auth-service-127.0.0.1:3001');
    expect(r.body).toEqual({
      success: true,
      data: { serviceId: 'auth-service-127.0.0.1:3001', removed: true },
    });
    expect((await call('DELETE', '/registry/instances/auth-service-127.0.0.1:3001')).status).toBe(404);
    // Instances the registry's owner registered are not the API's to remove.
    expect((await call('DELETE', '/registry/instances/gw-own')).status).toBe(404);
    expect(registry.getInstances('auth-service').map((i) => i.serviceId)).toEqual(['gw-own']);
  });

  it.each([
    [{ ...authService, port: 70000 }, 'port', 'port must be an integer between 1 and 65535, got 70000'],
    [{ ...authService, name: '' }, 'name', 'name must be a non-empty string'],
    [{ ...authService, protocol: 'tcp' }, 'protocol', "protocol must be 'grpc' or 'http'"],
    [{ ...authService, colour: 'red' }, 'colour', "unknown option 'colour'"],
    [{ ...authService, metadata: JSON.parse('{"__proto__": {"x": 1}}') }, 'metadata.__proto__', '__proto__'],
  ])('refuses %o with 400 naming the field, registering nothing', async (body, field, message) => {
    const { call, registry } = await serve();
    const r = await call('POST', '/registry/instances', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ success: false, code: 'BAD_REQUEST', details: { field } });
    expect(r.body.error).toContain(message);
    expect(registry.getServiceNames()).toEqual([]);
  });

  it('refuses bodies that are not JSON or too large, and unknown routes', async () => {
    const { call } = await serve({ maxBodyBytes: 100 });
    expect((await call('POST', '/registry/instances', '{nope')).body.error).toBe(
      'request body is not valid JSON',
    );
    const big = await call('POST', '/registry/instances', {
      ...authService,
      metadata: { pad: 'x'.repeat(200) },
    });
    expect(big.status).toBe(400);
    expect(big.body.error).toBe('request body is larger than 100 bytes');
    expect((await call('PATCH', '/registry/instances')).status).toBe(404);
    expect((await call('GET', '/elsewhere')).body).toBe('not the registry');
    expect((await call('GET', '/registryx')).body).toBe('not the registry');
  });

  it('runs authenticate first; a refused request touches nothing', async () => {
    const { call, registry } = await serve({
      prefix: '/internal/registry',
      authenticate: (req, res) => {
        if (req.headers.authorization === 'Bearer ok') return true;
        res.statusCode = 401;
        res.end('{"success":false}');
        return false;
      },
    });
    expect((await call('POST', '/internal/registry/instances', authService)).status).toBe(401);
    expect(registry.getServiceNames()).toEqual([]);
  });

  it('close() deregisters what it registered and answers 503 after', async () => {
    const { call, api, registry } = await serve();
    await call('POST', '/registry/instances', authService);
    api.close();
    expect(registry.getServiceNames()).toEqual([]);
    expect((await call('GET', '/registry/services')).status).toBe(503);
  });

  it('refuses bad options with BAD_REQUEST naming the field', () => {
    const registry = new ServiceRegistry();
    const at = (options: unknown) =>
      thrown(() => createRegistryHttpApi(registry, options as RegistryHttpApiOptions));
    expect(at({ prefix: 'registry' }).metadata?.field).toBe('prefix');
    expect(at({ prefix: '/registry/' }).metadata?.field).toBe('prefix');
    expect(at({ ttlMs: 0 }).metadata?.field).toBe('ttlMs');
    expect(at({ ttl: 1 }).metadata?.field).toBe('ttl');
    expect(thrown(() => createRegistryHttpApi({} as ServiceRegistry)).metadata?.field).toBe('registry');
    void registry.close();
  });
});
