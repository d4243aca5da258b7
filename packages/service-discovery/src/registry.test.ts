import { ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asr, thrown } from '../test/fixtures';
import type { ServiceRegistration } from './instance';
import { LeastOutstandingBalancer } from './load-balancer';
import { InMemoryBackend } from './memory-backend';
import { ServiceRegistry } from './registry';

afterEach(() => {
  vi.useRealTimers();
});

describe('ServiceRegistry: registration', () => {
  it('registers synchronously: visible at once, without await', () => {
    const registry = new ServiceRegistry();
    const instance = registry.register(asr(1, { metadata: { zone: 'a' } }));
    expect(instance).toMatchObject({ serviceId: 'asr-1', weight: 1, metadata: { zone: 'a' } });
    expect(Object.isFrozen(instance)).toBe(true);
    expect(registry.getInstances('asr')).toEqual([instance]);
    expect(registry.getHealthyInstances('asr')).toEqual([instance]);
    expect(registry.discover('asr')).toEqual([instance]);
    expect(registry.getServiceInstance('asr')).toBe(instance);
    expect(registry.getServiceUrl('asr')).toBe('127.0.0.1:50051');
    expect(registry.getHealth('asr-1')).toBe('unknown');
    expect(registry.getServiceNames()).toEqual(['asr']);
  });

  it.each([
    [
      { port: 70000 },
      'port',
      'ServiceRegistry.register: port must be an integer between 1 and 65535, got 70000',
    ],
    [{ port: 0 }, 'port', 'got 0'],
    [{ serviceName: '' }, 'serviceName', 'serviceName must be a non-empty string, got ""'],
    [{ host: '' }, 'host', 'host must be a non-empty host name or address'],
    [{ port: -1 }, 'port', 'port must be an integer between 1 and 65535, got -1'],
    [{ port: 99999 }, 'port', 'port must be an integer between 1 and 65535, got 99999'],
    [{ port: 1.5 }, 'port', 'port must be an integer between 1 and 65535, got 1.5'],
    [{ protocol: 'tcp' }, 'protocol', `protocol must be 'grpc' or 'http', got "tcp"`],
    [{ weight: 0 }, 'weight', 'weight must be a positive number, got 0'],
    [{ colour: 'red' }, 'colour', "unknown option 'colour'"],
  ])('rejects %o synchronously with BAD_REQUEST naming the field', (patch, field, message) => {
    const registry = new ServiceRegistry();
    const error = thrown(() => registry.register({ ...asr(1), ...patch } as ServiceRegistration));
    expect(error.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(error.metadata?.field).toBe(field);
    expect(error.message).toContain(message);
    expect(registry.getInstances('asr')).toEqual([]);
  });

  it('rejects a serviceId already registered at another address, accepts an update at the same', () => {
    const registry = new ServiceRegistry();
    registry.register(asr(1));
    const error = thrown(() => registry.register(asr(1, { port: 1234 })));
    expect(error.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(error.metadata?.field).toBe('serviceId');
    expect(error.message).toContain("serviceId 'asr-1' is already registered at grpc://127.0.0.1:50051");
    const updated = registry.register(asr(1, { version: '2.0.0' }));
    expect(registry.getInstances('asr')).toEqual([updated]);
  });

  it('rejects bad options naming the field', () => {
    expect(() => new ServiceRegistry({ healthCheckIntervalMs: -1 })).toThrow(
      'ServiceRegistry: healthCheckIntervalMs must be an integer number of milliseconds between 1 and 2147483647 (about 24.8 days), got -1',
    );
    expect(() => new ServiceRegistry({ loadBalancer: 'fastest' as never })).toThrow('loadBalancer');
    expect(() => new ServiceRegistry({ backend: {} as never })).toThrow('backend must be a RegistryBackend');
  });

  it('emits registered and deregistered; deregister only touches its own instances', () => {
    const registry = new ServiceRegistry();
    const events: string[] = [];
    registry.on('registered', (e) => events.push(`+${e.instance.serviceId}:${e.local}`));
    registry.on('deregistered', (e) => events.push(`-${e.instance.serviceId}:${e.local}`));
    registry.register(asr(1));
    registry.register(asr(1)); // unchanged: no event
    registry.register(asr(1, { weight: 3 })); // changed
    expect(registry.deregister('asr-1')).toBe(true);
    expect(registry.deregister('asr-1')).toBe(false);
    expect(events).toEqual(['+asr-1:true', '+asr-1:true', '-asr-1:true']);
    expect(() => registry.getServiceInstance('asr')).toThrow("No instance of 'asr' is registered");
  });

  it('balances with round robin by default and with the configured balancer', () => {
    const registry = new ServiceRegistry();
    for (let i = 1; i <= 3; i++) registry.register(asr(i));
    const seen = Array.from({ length: 6 }, () => registry.getServiceInstance('asr').serviceId);
    expect(new Set(seen.slice(0, 3)).size).toBe(3);
    expect(seen.slice(3)).toEqual(seen.slice(0, 3));

    const balancers: LeastOutstandingBalancer[] = [];
    const lor = new ServiceRegistry({
      loadBalancer: () => {
        const b = new LeastOutstandingBalancer();
        balancers.push(b);
        return b;
      },
    });
    lor.register(asr(1));
    lor.register(asr(2));
    const first = lor.getServiceInstance('asr');
    const second = lor.getServiceInstance('asr');
    expect(second.serviceId).not.toBe(first.serviceId);
    lor.release(first);
    expect(balancers[0]!.outstanding(first.serviceId)).toBe(0);
    expect(balancers[0]!.outstanding(second.serviceId)).toBe(1);
  });

  it('withInstance releases the instance however the call ends', async () => {
    let balancer: LeastOutstandingBalancer | undefined;
    const registry = new ServiceRegistry({ loadBalancer: () => (balancer = new LeastOutstandingBalancer()) });
    registry.register(asr(1));
    expect(await registry.withInstance('asr', (i) => i.port)).toBe(50051);
    await expect(
      registry.withInstance('asr', () => {
        throw new Error('call failed');
      }),
    ).rejects.toThrow('call failed');
    expect(balancer!.outstanding('asr-1')).toBe(0);
  });

  it('getServiceUrl gives http URLs for HTTP instances and brackets IPv6', () => {
    const registry = new ServiceRegistry();
    registry.register({ serviceId: 'w', serviceName: 'web', host: '::1', port: 8080, protocol: 'http' });
    expect(registry.getServiceUrl('web')).toBe('http://[::1]:8080');
  });

  it('watch reports the healthy set now and on every change', () => {
    const registry = new ServiceRegistry();
    const seen: string[][] = [];
    const off = registry.watch('asr', (list) => seen.push(list.map((i) => i.serviceId)));
    registry.register(asr(1));
    registry.register(asr(2));
    registry.deregister('asr-1');
    off();
    registry.register(asr(3));
    expect(seen).toEqual([[], ['asr-1'], ['asr-1', 'asr-2'], ['asr-2']]);
  });

  it('refuses work after close and closes idempotently', async () => {
    const registry = new ServiceRegistry();
    registry.register(asr(1));
    await Promise.all([registry.close(), registry.close()]);
    expect(() => registry.register(asr(2))).toThrow('ServiceRegistry is closed');
  });

  it('registries sharing an InMemoryBackend see each other, and a closed one leaves', async () => {
    const backend = new InMemoryBackend();
    const a = new ServiceRegistry({ backend });
    const b = new ServiceRegistry({ backend });
    a.register(asr(1));
    await vi.waitFor(() => expect(b.getInstances('asr').map((i) => i.serviceId)).toEqual(['asr-1']));
    const gone = new Promise((resolve) => b.on('deregistered', resolve));
    await a.close();
    expect(await gone).toMatchObject({ instance: { serviceId: 'asr-1' }, local: false });
    await b.close();
  });

  it.each(['healthCheckIntervalMs', 'healthCheckTimeoutMs', 'backendRetryMinMs', 'backendRetryMaxMs'])(
    'refuses a %s that no timer can hold, naming it',
    (field) => {
      // Node fires a longer timer after 1 ms: a huge health-check interval became a hot loop.
      const error = thrown(() => new ServiceRegistry({ [field]: 2 ** 31 }));
      expect(error.code).toBe(ServiceErrorCode.BAD_REQUEST);
      expect(error.metadata?.field).toBe(field);
      expect(error.message).toContain(`ServiceRegistry: ${field} must be an integer number of milliseconds`);
      expect(() => new ServiceRegistry({ [field]: 2 ** 31 - 1 })).not.toThrow();
    },
  );

  it('refuses __proto__ as a metadata key by name instead of silently dropping it', () => {
    const registry = new ServiceRegistry();
    // JSON.parse makes an own `__proto__` key, as a registration read from a config file would.
    const metadata = JSON.parse('{"zone": "a", "__proto__": {"admin": true}}') as Record<string, unknown>;
    const error = thrown(() => registry.register(asr(1, { metadata })));
    expect(error.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(error.metadata?.field).toBe('metadata.__proto__');
    expect(error.message).toBe('ServiceRegistry.register: metadata key "__proto__" is a reserved name');
    expect(registry.getInstances('asr')).toEqual([]);
    expect(registry.register(asr(1, { metadata: { zone: 'a' } })).metadata).toEqual({ zone: 'a' });
  });

  it('__proto__ works as a service name and a serviceId, here and in other registries', async () => {
    const backend = new InMemoryBackend();
    const a = new ServiceRegistry({ backend });
    const b = new ServiceRegistry({ backend });
    a.register(asr(1, { serviceName: '__proto__', serviceId: '__proto__' }));
    expect(a.getServiceInstance('__proto__').serviceId).toBe('__proto__');
    expect(a.getServiceNames()).toEqual(['__proto__']);
    await vi.waitFor(() =>
      expect(b.getInstances('__proto__').map((i) => i.serviceId)).toEqual(['__proto__']),
    );
    expect(b.getHealth('__proto__')).toBe('unknown');
    expect(a.deregister('__proto__')).toBe(true);
    await vi.waitFor(() => expect(b.getInstances('__proto__')).toEqual([]));
    await Promise.all([a.close(), b.close()]);
  });
});
