import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type HealthCheckResponse, HealthClient, healthServiceDefinition } from './health-proto';
import { ServiceRegistry } from './registry';
import { registerCloneResolver } from './resolver';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A real gRPC server on loopback that counts the calls it serves. */
async function server(name: string) {
  const s = new grpc.Server();
  const served = { name, calls: 0 };
  s.addService(healthServiceDefinition, {
    Check: (_call: unknown, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
      served.calls++;
      callback(null, { status: 'SERVING' });
    },
    Watch: () => {},
  });
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  cleanups.push(() => s.forceShutdown());
  return { ...served, port, served };
}

const call = (client: HealthClient, deadlineMs = 2_000) =>
  new Promise<HealthCheckResponse>((resolve, reject) =>
    client.Check({ service: '' }, { deadline: Date.now() + deadlineMs }, (error, response) =>
      error ? reject(error) : resolve(response!),
    ),
  );

describe('clone: resolver for grpc-js', () => {
  it('resolves through the registry, balances round robin, and follows instances as they come and go', async () => {
    const registry = new ServiceRegistry();
    cleanups.push(() => registry.close());
    registerCloneResolver(registry);
    const a = await server('a');
    const b = await server('b');
    registry.register({
      serviceId: 'a',
      serviceName: 'echo',
      host: '127.0.0.1',
      port: a.port,
      protocol: 'grpc',
    });
    registry.register({
      serviceId: 'b',
      serviceName: 'echo',
      host: '127.0.0.1',
      port: b.port,
      protocol: 'grpc',
    });

    const client = new HealthClient('clone:///echo', grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    // round_robin connects to every endpoint; once both are ready, calls alternate.
    await vi.waitFor(async () => {
      await call(client);
      expect(a.served.calls).toBeGreaterThan(0);
      expect(b.served.calls).toBeGreaterThan(0);
    });
    a.served.calls = b.served.calls = 0;
    for (let i = 0; i < 10; i++) await call(client);
    expect([a.served.calls, b.served.calls]).toEqual([5, 5]);

    // Gone from the registry: no more calls reach it.
    registry.deregister('a');
    await vi.waitFor(async () => {
      const before = a.served.calls;
      for (let i = 0; i < 4; i++) await call(client);
      expect(a.served.calls).toBe(before);
    });

    // A new instance joins the rotation.
    const c = await server('c');
    registry.register({
      serviceId: 'c',
      serviceName: 'echo',
      host: '127.0.0.1',
      port: c.port,
      protocol: 'grpc',
    });
    await vi.waitFor(async () => {
      await call(client);
      expect(c.served.calls).toBeGreaterThan(0);
    });
  });

  it('fails calls with UNAVAILABLE while no healthy instance exists, and recovers when one appears', async () => {
    const registry = new ServiceRegistry({
      healthCheck: async (i) => i.serviceId !== 'sick',
      healthCheckIntervalMs: 60_000,
    });
    cleanups.push(() => registry.close());
    registerCloneResolver(registry, { scheme: 'clone-test-empty' });
    const client = new HealthClient('clone-test-empty:///lonely', grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    await expect(call(client, 300)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });

    const sick = await server('sick');
    registry.register({
      serviceId: 'sick',
      serviceName: 'lonely',
      host: '127.0.0.1',
      port: sick.port,
      protocol: 'grpc',
    });
    registry.startHealthChecks();
    await vi.waitFor(() => expect(registry.getHealth('sick')).toBe('unhealthy'));
    await expect(call(client, 300)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(sick.served.calls).toBe(0);

    const well = await server('well');
    registry.register({
      serviceId: 'well',
      serviceName: 'lonely',
      host: '127.0.0.1',
      port: well.port,
      protocol: 'grpc',
    });
    await vi.waitFor(() => call(client));
    expect(well.served.calls).toBeGreaterThan(0);
    expect(sick.served.calls).toBe(0);
  });

  it('picks up where it left off after the channel went idle and came back', async () => {
    const registry = new ServiceRegistry();
    cleanups.push(() => registry.close());
    registerCloneResolver(registry, { scheme: 'clone-test-idle' });
    const first = await server('first');
    registry.register({
      serviceId: 'first',
      serviceName: 'idle',
      host: '127.0.0.1',
      port: first.port,
      protocol: 'grpc',
    });
    const client = new HealthClient('clone-test-idle:///idle', grpc.credentials.createInsecure(), {
      'grpc.client_idle_timeout_ms': 1_000,
    });
    cleanups.push(() => client.close());
    await call(client);
    const channel = client.getChannel();
    await vi.waitFor(() => expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.IDLE), {
      timeout: 10_000,
      interval: 100,
    });
    // Changed while the channel was idle (its resolver destroyed): seen on the way back.
    registry.deregister('first');
    const second = await server('second');
    registry.register({
      serviceId: 'second',
      serviceName: 'idle',
      host: '127.0.0.1',
      port: second.port,
      protocol: 'grpc',
    });
    await call(client);
    expect(second.served.calls).toBe(1);
    expect(first.served.calls).toBe(1);
  });

  it('a detached registry leaves channels of the scheme failing instead of calling stale addresses', async () => {
    const registry = new ServiceRegistry();
    cleanups.push(() => registry.close());
    const detach = registerCloneResolver(registry, { scheme: 'clone-test-detach' });
    const s = await server('s');
    registry.register({
      serviceId: 's',
      serviceName: 'x',
      host: '127.0.0.1',
      port: s.port,
      protocol: 'grpc',
    });
    detach();
    const client = new HealthClient('clone-test-detach:///x', grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    await expect(call(client, 300)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(s.served.calls).toBe(0);
  });
});
