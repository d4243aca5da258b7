import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultHealthCheck } from './health-check';
import { HealthClient, healthServiceDefinition } from './health-proto';
import { HealthService } from './health-service';
import { parseInstance, type ServiceRegistration } from './instance';
import { ServiceRegistry, type ServiceRegistryEvents } from './registry';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function grpcServer(
  setup: (server: grpc.Server) => void,
  port = 0,
): Promise<{ port: number; stop(): Promise<void> }> {
  const server = new grpc.Server();
  setup(server);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    server.forceShutdown();
  };
  cleanups.push(stop);
  return { port: bound, stop };
}

async function httpServer(handler: () => number): Promise<{ port: number; server: HttpServer }> {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? handler() : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as AddressInfo).port, server };
}

const grpcInstance = (port: number, extra: Partial<ServiceRegistration> = {}) =>
  parseInstance({
    serviceId: `g-${port}`,
    serviceName: 'g',
    host: '127.0.0.1',
    port,
    protocol: 'grpc',
    ...extra,
  });

const check = defaultHealthCheck();
const run = (instance: ReturnType<typeof parseInstance>) => check(instance, new AbortController().signal);

/** Resolves with the next healthChanged event of `registry`. */
const nextHealthChange = (registry: ServiceRegistry) =>
  new Promise<ServiceRegistryEvents['healthChanged']>((resolve) => {
    const off = registry.on('healthChanged', (event) => {
      off();
      resolve(event);
    });
  });

describe('standard health checks against real servers', () => {
  it('gRPC: follows grpc.health.v1 SERVING / NOT_SERVING, per service name', async () => {
    const health = new HealthService({ '': 'SERVING', asr: 'NOT_SERVING' });
    const { port } = await grpcServer((s) => health.addTo(s));
    expect(await run(grpcInstance(port))).toBe(true);
    await expect(run(grpcInstance(port, { healthCheckService: 'asr' }))).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
      message: 'health status NOT_SERVING',
    });
    health.setStatus('', 'NOT_SERVING');
    await expect(run(grpcInstance(port))).rejects.toMatchObject({ message: 'health status NOT_SERVING' });
    await expect(run(grpcInstance(port, { healthCheckService: 'nope' }))).rejects.toMatchObject({
      code: ServiceErrorCode.NOT_FOUND,
    });
  });

  it('gRPC: a server without the health service is up (UNIMPLEMENTED) unless strict', async () => {
    const { port } = await grpcServer(() => {});
    expect(await run(grpcInstance(port))).toBe(true);
    await expect(run(grpcInstance(port, { strictHealthCheck: true }))).rejects.toMatchObject({
      code: ServiceErrorCode.NOT_IMPLEMENTED,
    });
  });

  it('gRPC: nothing listening, or a host that does not resolve, is unhealthy', async () => {
    const { port, stop } = await grpcServer(() => {});
    await stop();
    await expect(run(grpcInstance(port))).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
    });
    await expect(run(grpcInstance(50051, { host: 'asr-service.invalid' }))).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
    });
  });

  it('HTTP: 2xx from GET healthCheckUrl is healthy, anything else is not', async () => {
    let status = 200;
    const { port } = await httpServer(() => status);
    const instance = parseInstance({
      serviceId: 'h',
      serviceName: 'h',
      host: '127.0.0.1',
      port,
      protocol: 'http',
      healthCheckUrl: '/healthz',
    });
    expect(await run(instance)).toBe(true);
    status = 503;
    await expect(run(instance)).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
      httpStatus: 503,
    });
    status = 204;
    expect(await run(instance)).toBe(true);
    const absolute = parseInstance({ ...instance, healthCheckUrl: `http://127.0.0.1:${port}/healthz` });
    expect(await run(absolute)).toBe(true);
    const defaultPath = parseInstance({ ...instance, healthCheckUrl: undefined });
    await expect(run(defaultPath)).rejects.toMatchObject({ httpStatus: 404 });
  });

  it('an aborted check stops at once', async () => {
    // A server that accepts and never answers.
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    const instance = parseInstance({
      serviceId: 'h',
      serviceName: 'h',
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      protocol: 'http',
    });
    const controller = new AbortController();
    const pending = check(instance, controller.signal);
    controller.abort(new Error('enough'));
    await expect(pending).rejects.toThrow('enough');
  });
});

describe('HealthService', () => {
  it('streams status changes to Watch callers', async () => {
    const health = new HealthService();
    const { port } = await grpcServer((s) => health.addTo(s));
    const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const stream = client.Watch({ service: '' });
    cleanups.push(() => stream.cancel());
    const seen: string[] = [];
    stream.on('data', (r: { status: string }) => seen.push(r.status));
    stream.on('error', () => {});
    await vi.waitFor(() => expect(seen).toEqual(['SERVING']));
    health.setStatus('', 'NOT_SERVING');
    health.setStatus('', 'NOT_SERVING'); // unchanged: not sent again
    health.setStatus('', 'SERVING');
    await vi.waitFor(() => expect(seen).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']));
    expect(health.getStatus('')).toBe('SERVING');
    expect(health.getStatus('other')).toBeUndefined();
  });
});

describe('registry health checking against servers that flip', () => {
  const fast = {
    healthCheckIntervalMs: 30,
    healthCheckTimeoutMs: 1_000,
    healthCheckJitter: 0,
    unhealthyThreshold: 2,
    healthyThreshold: 2,
  };

  it('gRPC: takes a NOT_SERVING instance out of rotation and brings it back', async () => {
    const health = new HealthService();
    const a = await grpcServer((s) => health.addTo(s));
    const b = await grpcServer((s) => new HealthService().addTo(s));
    const registry = new ServiceRegistry(fast);
    cleanups.push(() => registry.close());
    registry.register({
      serviceId: 'a',
      serviceName: 'asr',
      host: '127.0.0.1',
      port: a.port,
      protocol: 'grpc',
    });
    registry.register({
      serviceId: 'b',
      serviceName: 'asr',
      host: '127.0.0.1',
      port: b.port,
      protocol: 'grpc',
    });
    const changes: string[] = [];
    registry.on('healthChanged', (e) => changes.push(`${e.instance.serviceId}:${e.previous}->${e.current}`));
    registry.startHealthChecks();
    await vi.waitFor(() => expect(registry.getHealth('a')).toBe('healthy'));
    await vi.waitFor(() => expect(registry.getHealth('b')).toBe('healthy'));

    health.setStatus('', 'NOT_SERVING');
    const down = await nextHealthChange(registry);
    expect(down).toMatchObject({ instance: { serviceId: 'a' }, previous: 'healthy', current: 'unhealthy' });
    expect(down.error?.message).toBe('health status NOT_SERVING');
    expect(registry.getHealthyInstances('asr').map((i) => i.serviceId)).toEqual(['b']);
    for (let i = 0; i < 5; i++) expect(registry.getServiceInstance('asr').serviceId).toBe('b');

    health.setStatus('', 'SERVING');
    expect(await nextHealthChange(registry)).toMatchObject({
      instance: { serviceId: 'a' },
      current: 'healthy',
    });
    expect(
      registry
        .getHealthyInstances('asr')
        .map((i) => i.serviceId)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(changes.filter((c) => c.startsWith('a:'))).toEqual([
      'a:unknown->healthy',
      'a:healthy->unhealthy',
      'a:unhealthy->healthy',
    ]);
  });

  it('gRPC: a server that goes away and comes back on the same port', async () => {
    const first = await grpcServer((s) => new HealthService().addTo(s));
    const registry = new ServiceRegistry(fast);
    cleanups.push(() => registry.close());
    registry.register({
      serviceId: 'a',
      serviceName: 'asr',
      host: '127.0.0.1',
      port: first.port,
      protocol: 'grpc',
    });
    registry.startHealthChecks();
    await vi.waitFor(() => expect(registry.getHealth('a')).toBe('healthy'));
    await first.stop();
    expect(await nextHealthChange(registry)).toMatchObject({ current: 'unhealthy' });
    await grpcServer((s) => new HealthService().addTo(s), first.port);
    expect(await nextHealthChange(registry)).toMatchObject({ current: 'healthy' });
  });

  it('HTTP: 503 takes the instance out, 200 brings it back; getServiceUrl follows', async () => {
    let status = 200;
    const { port } = await httpServer(() => status);
    const registry = new ServiceRegistry(fast);
    cleanups.push(() => registry.close());
    registry.register({
      serviceId: 'h1',
      serviceName: 'web',
      host: '127.0.0.1',
      port,
      protocol: 'http',
      healthCheckUrl: '/healthz',
    });
    registry.startHealthChecks();
    await vi.waitFor(() => expect(registry.getHealth('h1')).toBe('healthy'));
    expect(registry.getServiceUrl('web')).toBe(`http://127.0.0.1:${port}`);
    status = 503;
    expect(await nextHealthChange(registry)).toMatchObject({ current: 'unhealthy' });
    expect(() => registry.getServiceUrl('web')).toThrow(
      expect.objectContaining({ code: ServiceErrorCode.SERVICE_UNAVAILABLE }),
    );
    status = 200;
    expect(await nextHealthChange(registry)).toMatchObject({ current: 'healthy' });
    expect(registry.getServiceUrl('web')).toBe(`http://127.0.0.1:${port}`);
  });

  it('a host that does not resolve is simply unhealthy', async () => {
    const registry = new ServiceRegistry({ healthCheckIntervalMs: 30_000 });
    cleanups.push(() => registry.close());
    registry.register({
      serviceId: 'asr-service-1',
      serviceName: 'asr',
      host: 'asr-service',
      port: 50051,
      protocol: 'grpc',
      healthCheckUrl: '/health',
    });
    registry.startHealthChecks();
    const change = await nextHealthChange(registry);
    expect(change).toMatchObject({ previous: 'unknown', current: 'unhealthy' });
    expect(change.error?.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(registry.getHealthyInstances('asr')).toEqual([]);
    expect(registry.getInstances('asr')).toHaveLength(1);
  });

  it('checks against the health service definition added by hand, too', async () => {
    let calls = 0;
    const { port } = await grpcServer((s) =>
      s.addService(healthServiceDefinition, {
        Check: (_call: unknown, cb: grpc.sendUnaryData<{ status: string }>) => {
          calls++;
          cb(null, { status: 'SERVING' });
        },
        Watch: () => {},
      }),
    );
    expect(await run(grpcInstance(port))).toBe(true);
    expect(calls).toBe(1);
  });
});
