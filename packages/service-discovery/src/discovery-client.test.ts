import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServiceError, ServiceErrorCode, systemClock } from '@clone/service-errors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { thrown } from '../test/fixtures';
import { createServiceDiscoveryClient, type ServiceDiscoveryClient } from './discovery-client';
import type { ServiceDiscoveryClientOptions } from './discovery-client-options';
import { ServiceRegistry } from './registry';
import { createRegistryHttpApi, type RegistryHttpApi } from './registry-http-api';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/**
 * A registry on a real node:http server. Its time stands still until the test moves it (so
 * leases expire exactly when the test says); `requests` logs what reached it; `stop()` and
 * `start()` take it away and bring it back, empty, on the same port (a restarted gateway).
 */
async function registryServer() {
  let now = 1_000_000;
  const clock = {
    now: () => now,
    setTimeout: systemClock.setTimeout,
    clearTimeout: systemClock.clearTimeout,
  };
  const requests: string[] = [];
  const waiters: Array<{ match: RegExp; resolve: () => void }> = [];
  let registry!: ServiceRegistry;
  let api!: RegistryHttpApi;
  let server: Server | undefined;
  let port = 0;
  const onRequest = (req: IncomingMessage) => {
    const line = `${req.method} ${req.url}`;
    requests.push(line);
    for (const w of waiters.splice(0)) {
      if (w.match.test(line)) w.resolve();
      else waiters.push(w);
    }
  };
  const start = async () => {
    registry = new ServiceRegistry();
    api = createRegistryHttpApi(registry, { ttlMs: 3_000, clock });
    server = createServer((req, res) => {
      onRequest(req);
      if (!api.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    if (server === undefined) return;
    const s = server;
    server = undefined;
    api.close();
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
    await registry.close();
  };
  await start();
  cleanup.push(stop);
  return {
    url: `http://127.0.0.1:${port}`,
    get registry() {
      return registry;
    },
    get api() {
      return api;
    },
    requests,
    advance: (ms: number) => {
      now += ms;
    },
    /** Resolves when the next request matching `match` arrives. */
    next: (match: RegExp) => new Promise<void>((resolve) => waiters.push({ match, resolve })),
    stop,
    start,
  };
}

function client(options: ServiceDiscoveryClientOptions): ServiceDiscoveryClient {
  const discovery = createServiceDiscoveryClient(options);
  cleanup.push(() => discovery.close());
  return discovery;
}

const once = <T>(
  discovery: ServiceDiscoveryClient,
  event: 'registry:disconnected' | 'registry:reconnected' | 'registered',
) =>
  new Promise<T>((resolve) => {
    const off = discovery.on(event, (payload) => {
      off();
      resolve(payload as T);
    });
  });

const authService = {
  name: 'auth-service',
  version: '1.0.0',
  port: 3001,
  healthCheckUrl: 'http://auth-service:3001/health',
  metadata: { capabilities: ['authentication', 'user-management'] },
};

describe('createServiceDiscoveryClient against a real registry server', () => {
  it('registers in the design document shape; the registry fills host and serviceId', async () => {
    const r = await registryServer();
    const discovery = client({ registryUrl: r.url });
    const instance = await discovery.register(authService);
    expect(instance).toMatchObject({
      serviceId: 'auth-service-127.0.0.1:3001',
      serviceName: 'auth-service',
      host: '127.0.0.1',
      port: 3001,
      protocol: 'http',
      metadata: authService.metadata,
    });
    expect(r.registry.discover('auth-service')).toEqual([instance]);
    const named = client({ registryUrl: r.url, host: 'auth-service' });
    expect((await named.register({ ...authService, port: 3005 })).host).toBe('auth-service');
  });

  it('discovers, balances round-robin from its cache, and builds URLs', async () => {
    const r = await registryServer();
    const discovery = client({ registryUrl: r.url });
    await discovery.register({ name: 'access-service', port: 3002 });
    await discovery.register({ name: 'access-service', port: 3003 });
    const instances = await discovery.discover('access-service');
    expect(instances.map((i) => i.port)).toEqual([3002, 3003]);
    const before = r.requests.length;
    // Cached now: the lookups are synchronous and cost no request.
    const picks = [0, 1, 2, 3].map(() => discovery.getServiceInstance('access-service'));
    expect(picks.every((p) => !(p instanceof Promise))).toBe(true);
    expect(picks.map((p) => (p as { port: number }).port)).toEqual([3002, 3003, 3002, 3003]);
    expect(await discovery.getServiceUrl('access-service')).toBe('http://127.0.0.1:3002');
    expect(r.requests.length).toBe(before);
    expect(await discovery.listServices()).toEqual([{ name: 'access-service', instances: 2, healthy: 2 }]);
  });

  it('fetches a service on first lookup, then refreshes a stale list in the background', async () => {
    const r = await registryServer();
    let now = 0;
    const clock = {
      now: () => now,
      setTimeout: systemClock.setTimeout,
      clearTimeout: systemClock.clearTimeout,
    };
    const discovery = client({ registryUrl: r.url, cacheTtlMs: 1_000, clock });
    r.registry.register({ serviceId: 'a-1', serviceName: 'a', host: '10.0.0.1', port: 80, protocol: 'http' });
    const first = discovery.getServiceInstance('a');
    expect(first).toBeInstanceOf(Promise);
    expect((await first).serviceId).toBe('a-1');
    r.registry.register({ serviceId: 'a-2', serviceName: 'a', host: '10.0.0.2', port: 80, protocol: 'http' });
    now = 999;
    expect((discovery.getServiceInstance('a') as { serviceId: string }).serviceId).toBe('a-1');
    expect(r.requests.filter((l) => l === 'GET /registry/services/a')).toHaveLength(1);
    now = 1_000;
    // Stale: answered at once from the old list while one refresh goes out.
    const refreshed = r.next(/^GET \/registry\/services\/a$/);
    expect((discovery.getServiceInstance('a') as { serviceId: string }).serviceId).toBe('a-1');
    expect(discovery.getServiceInstance('a')).not.toBeInstanceOf(Promise);
    await refreshed;
    await vi.waitFor(() => {
      const ids = new Set(
        [0, 1].map(() => (discovery.getServiceInstance('a') as { serviceId: string }).serviceId),
      );
      expect([...ids].sort()).toEqual(['a-1', 'a-2']);
    });
    // Fresh again: no further request.
    expect(r.requests.filter((l) => l === 'GET /registry/services/a')).toHaveLength(2);
  });

  it('answers SERVICE_UNAVAILABLE naming a service with no instance', async () => {
    const r = await registryServer();
    const discovery = client({ registryUrl: r.url });
    const error = (await Promise.resolve()
      .then(() => discovery.getServiceInstance('billing'))
      .catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(error.message).toBe("No instance of 'billing' is registered");
    expect(await discovery.discover('billing')).toEqual([]);
  });

  it('heartbeats keep a registration past its lease; a lapsed one is registered again', async () => {
    const r = await registryServer();
    const discovery = client({ registryUrl: r.url, heartbeatIntervalMs: 20 });
    await discovery.register(authService);
    r.advance(2_500);
    await r.next(/^PUT \/registry\/instances\/auth-service-127\.0\.0\.1%3A3001\/heartbeat$/);
    await r.next(/heartbeat$/);
    r.advance(2_500); // 5 s after registering: alive only because the heartbeat renewed it
    expect(r.api.sweep()).toEqual([]);
    expect(r.registry.discover('auth-service')).toHaveLength(1);
    // Let it lapse between two heartbeats: the next heartbeat gets 404 and registers again.
    const again = once<{ instance: { serviceId: string } }>(discovery, 'registered');
    r.advance(10_000);
    expect(r.api.sweep()).toEqual(['auth-service-127.0.0.1:3001']);
    expect((await again).instance.serviceId).toBe('auth-service-127.0.0.1:3001');
    expect(r.registry.discover('auth-service')).toHaveLength(1);
  });

  it('reports the registry going away and coming back, serving the last known list meanwhile', async () => {
    const r = await registryServer();
    const discovery = client({
      registryUrl: r.url,
      heartbeatIntervalMs: 20,
      reconnectMinMs: 20,
      reconnectMaxMs: 50,
    });
    await discovery.register(authService);
    await discovery.discover('auth-service');
    expect(discovery.connected).toBe(true);
    const lost = once<{ error: ServiceError }>(discovery, 'registry:disconnected');
    await r.stop();
    const { error } = await lost;
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(error.message).toContain(`service registry unreachable at ${r.url}/registry`);
    expect(discovery.connected).toBe(false);
    // Meanwhile: the last known instances.
    expect((discovery.getServiceInstance('auth-service') as { port: number }).port).toBe(3001);
    expect((await discovery.discover('auth-service')).map((i) => i.port)).toEqual([3001]);
    const unknown = await discovery.discover('never-asked').catch((e: ServiceError) => e);
    expect((unknown as ServiceError).code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    // Back, and empty (a restarted gateway): the client registers again before saying so.
    const back = once(discovery, 'registry:reconnected');
    await r.start();
    await back;
    expect(discovery.connected).toBe(true);
    expect(r.registry.discover('auth-service').map((i) => i.serviceId)).toEqual([
      'auth-service-127.0.0.1:3001',
    ]);
  });

  it('refuses bad input with BAD_REQUEST naming the field, sending nothing', async () => {
    const r = await registryServer();
    const discovery = client({ registryUrl: r.url });
    for (const [patch, field] of [
      [{ port: 70000 }, 'port'],
      [{ name: '' }, 'name'],
      [{ metadata: 'x' }, 'metadata'],
      [{ colour: 'red' }, 'colour'],
    ] as const) {
      const error = await discovery
        .register({ ...authService, ...patch } as never)
        .catch((e: ServiceError) => e);
      expect((error as ServiceError).code).toBe(ServiceErrorCode.BAD_REQUEST);
      expect((error as ServiceError).metadata?.field).toBe(field);
    }
    expect(thrown(() => discovery.getServiceInstance('')).metadata?.field).toBe('serviceName');
    expect(r.requests).toEqual([]);
    const at = (options: unknown) =>
      thrown(() => createServiceDiscoveryClient(options as ServiceDiscoveryClientOptions));
    expect(at({}).metadata?.field).toBe('registryUrl');
    expect(at({ registryUrl: 'ftp://gateway' }).message).toContain('registryUrl must be an http(s) URL');
    expect(at({ registryUrl: 'not a url' }).metadata?.field).toBe('registryUrl');
    expect(at({ registryUrl: r.url, cacheTtlMs: -1 }).metadata?.field).toBe('cacheTtlMs');
    expect(at({ registryUrl: r.url, retries: 3 }).metadata?.field).toBe('retries');
  });

  it('close() deregisters, stops heartbeats and refuses further use', async () => {
    const r = await registryServer();
    const discovery = createServiceDiscoveryClient({ registryUrl: r.url, heartbeatIntervalMs: 10 });
    await discovery.register(authService);
    await discovery.close();
    expect(r.registry.discover('auth-service')).toEqual([]);
    const count = r.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.requests.length).toBe(count);
    expect(thrown(() => discovery.getServiceInstance('x')).message).toBe('ServiceDiscoveryClient is closed');
    await discovery.close();
  });

  it('deregister() withdraws one registration', async () => {
    const r = await registryServer();
    const discovery = client({ registryUrl: r.url });
    const instance = await discovery.register(authService);
    expect(await discovery.deregister(instance.serviceId)).toBe(true);
    expect(await discovery.deregister(instance.serviceId)).toBe(false);
    expect(r.registry.discover('auth-service')).toEqual([]);
  });
});
