import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type HealthCheckResponse, HealthClient, healthServiceDefinition } from './health-proto';
import { ServiceRegistry } from './registry';
import { type CloneResolverRegistration, registerCloneResolver } from './resolver';

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

/** Registers and closes the registration after the test, so tests do not see each other's defaults. */
const register = (...args: Parameters<typeof registerCloneResolver>): CloneResolverRegistration => {
  const registration = registerCloneResolver(...args);
  cleanups.push(() => registration.close());
  return registration;
};

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
    register(registry);
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
    register(registry, { scheme: 'clone-test-empty' });
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
    register(registry, { scheme: 'clone-test-idle' });
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
    const registration = register(registry, { scheme: 'clone-test-detach' });
    const s = await server('s');
    registry.register({
      serviceId: 's',
      serviceName: 'x',
      host: '127.0.0.1',
      port: s.port,
      protocol: 'grpc',
    });
    registration.close();
    const client = new HealthClient('clone-test-detach:///x', grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    await expect(call(client, 300)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(s.served.calls).toBe(0);
  });
});

describe('clone: resolver with several registries in one process', () => {
  const echo = (serviceId: string, port: number) =>
    ({ serviceId, serviceName: 'echo', host: '127.0.0.1', port, protocol: 'grpc' }) as const;
  const insecure = () => grpc.credentials.createInsecure();
  const client = (target: string) => {
    const c = new HealthClient(target, insecure());
    cleanups.push(() => c.close());
    return c;
  };
  const registryWith = async (name: string, scheme?: string) => {
    const registry = new ServiceRegistry();
    cleanups.push(() => registry.close());
    const registration = register(registry, scheme === undefined ? {} : { scheme });
    const s = await server(name);
    registry.register(echo(name, s.port));
    return { registry, registration, server: s };
  };
  const calls = async (c: HealthClient, n: number) => {
    for (let i = 0; i < n; i++) await call(c);
  };

  it('each registration has its own authority, and its channels reach only its registry’s instances', async () => {
    const one = await registryWith('one');
    const two = await registryWith('two');
    expect(one.registration.authority).not.toBe(two.registration.authority);
    expect(one.registration.authority).toMatch(/^[a-z0-9-]+$/);
    expect(one.registration.scheme).toBe('clone');
    expect(one.registration.target('echo')).toBe(`clone://${one.registration.authority}/echo`);

    const c1 = client(one.registration.target('echo'));
    const c2 = client(two.registration.target('echo'));
    await calls(c1, 4);
    await calls(c2, 3);
    // Both registries know a service 'echo'; before, the last registration answered for both.
    expect([one.server.served.calls, two.server.served.calls]).toEqual([4, 3]);
  });

  it('a change in one registry and closing its registration leave the other registry’s channels working', async () => {
    const one = await registryWith('one');
    const two = await registryWith('two');
    const c1 = client(one.registration.target('echo'));
    const c2 = client(two.registration.target('echo'));
    await calls(c1, 2);
    await calls(c2, 2);

    // Registry two changes: its instance moves. Channel one neither follows it nor breaks.
    two.registry.deregister('two');
    const three = await server('three');
    two.registry.register(echo('three', three.port));
    await vi.waitFor(async () => {
      await call(c2);
      expect(three.served.calls).toBeGreaterThan(0);
    });
    await calls(c1, 3);
    expect(one.server.served.calls).toBe(5);
    expect(three.served.calls + two.server.served.calls).toBeLessThan(10);

    // Registration two closes (twice: idempotent). Only its channels fail, naming it.
    two.registration.close();
    two.registration.close();
    await vi.waitFor(() =>
      expect(call(c2, 500)).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
        details: expect.stringContaining(two.registration.authority),
      }),
    );
    const threeCalls = three.served.calls;
    await expect(call(c2, 500)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(three.served.calls).toBe(threeCalls);
    await calls(c1, 2);
    expect(one.server.served.calls).toBe(7);
    // A new channel of registry one resolves too, one of the closed authority fails at once.
    await calls(client(one.registration.target('echo')), 1);
    expect(one.server.served.calls).toBe(8);
    await expect(call(client(two.registration.target('echo')), 500)).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringContaining(two.registration.authority),
    });
  });

  it('an unknown authority fails with UNAVAILABLE naming it', async () => {
    await registryWith('known');
    await expect(call(client('clone://registry-does-not-exist/echo'), 500)).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringContaining("'registry-does-not-exist'"),
    });
  });

  it('an empty authority resolves through the most recent open registration, and falls back when it closes', async () => {
    const scheme = 'clone-test-default';
    await expect(call(client(`${scheme}:///echo`), 500)).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    const older = await registryWith('older', scheme);
    const newer = await registryWith('newer', scheme);
    const byDefault = client(`${scheme}:///echo`);
    await calls(byDefault, 2);
    expect([older.server.served.calls, newer.server.served.calls]).toEqual([0, 2]);
    const pinned = client(newer.registration.target('echo'));
    await calls(pinned, 1);

    // The default closes: its default channels move to the registration before it; channels
    // naming the closed authority fail; the older registration's own channels never noticed.
    newer.registration.close();
    await vi.waitFor(async () => {
      await call(byDefault);
      expect(older.server.served.calls).toBeGreaterThan(0);
    });
    await expect(call(pinned, 500)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const before = older.server.served.calls;
    const newerCalls = newer.server.served.calls;
    await calls(client(older.registration.target('echo')), 2);
    await calls(byDefault, 2);
    expect(older.server.served.calls).toBe(before + 4);
    expect(newer.server.served.calls).toBe(newerCalls);

    // The last one closes too: default channels fail instead of calling stale addresses.
    older.registration.close();
    await vi.waitFor(() =>
      expect(call(byDefault, 500)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE }),
    );
    const last = older.server.served.calls;
    await expect(call(byDefault, 500)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(older.server.served.calls).toBe(last);
  });

  it('refuses a scheme that is not one, or that grpc-js resolves itself, and an empty service name', () => {
    const registry = new ServiceRegistry();
    cleanups.push(() => registry.close());
    for (const scheme of ['dns', 'Not A Scheme', '']) {
      expect(() => registerCloneResolver(registry, { scheme })).toThrow(
        expect.objectContaining({ code: 'BAD_REQUEST', metadata: { field: 'scheme' } }),
      );
    }
    const registration = register(registry, { scheme: 'clone-test-names' });
    expect(() => registration.target('')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(registration.target('a b/c')).toBe(`clone-test-names://${registration.authority}/a%20b%2Fc`);
  });
});
