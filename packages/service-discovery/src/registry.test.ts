import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendConnection, BackendListener, RegistryBackend } from './backend';
import type { ServiceInstance, ServiceRegistration } from './instance';
import { LeastOutstandingBalancer } from './load-balancer';
import { InMemoryBackend } from './memory-backend';
import { ServiceRegistry } from './registry';

const asr = (n: number, extra: Partial<ServiceRegistration> = {}): ServiceRegistration => ({
  serviceId: `asr-${n}`,
  serviceName: 'asr',
  host: '127.0.0.1',
  port: 50050 + n,
  protocol: 'grpc',
  ...extra,
});

const thrown = (fn: () => unknown): ServiceError => {
  try {
    fn();
  } catch (error) {
    if (isServiceError(error)) return error;
    throw error;
  }
  throw new Error('did not throw');
};

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
    [{ host: '' }, 'host', 'host must be a non-empty string'],
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
      'ServiceRegistry: healthCheckIntervalMs must be a positive integer, got -1',
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
});

/** A backend of our own interface whose writes fail until told otherwise. */
class FlakyBackend implements RegistryBackend {
  readonly kind = 'flaky';
  failing = true;
  writes: string[] = [];
  listener: BackendListener | undefined;
  connect(listener: BackendListener): BackendConnection {
    this.listener = listener;
    const write = async (what: string) => {
      this.writes.push(what);
      if (this.failing) throw new Error('store unreachable');
    };
    return {
      publish: (i) => write(`publish ${i.serviceId}`),
      withdraw: (id) => write(`withdraw ${id}`),
      close: async () => {},
    };
  }
}

describe('ServiceRegistry: backend failures', () => {
  it('a failed write is an event and a retry with backoff, never an unhandled rejection', async () => {
    vi.useFakeTimers();
    const backend = new FlakyBackend();
    const registry = new ServiceRegistry({ backend, backendRetryMinMs: 100, backendRetryMaxMs: 400 });
    const errors: { attempt: number; retryInMs: number; code: string }[] = [];
    registry.on('backendError', (e) =>
      errors.push({ attempt: e.attempt, retryInMs: e.retryInMs, code: e.error.code }),
    );
    registry.register(asr(1)); // no await, no catch: must not reject anywhere
    expect(registry.getInstances('asr')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors[0]).toMatchObject({ attempt: 1, code: ServiceErrorCode.INTERNAL_ERROR });
    for (const e of errors) expect(e.retryInMs).toBeLessThanOrEqual(400);
    expect(errors[3]!.retryInMs).toBeGreaterThanOrEqual(200); // capped at 400, at least half of it
    backend.failing = false;
    const writes = backend.writes.length;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(backend.writes.length).toBe(writes + 1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(backend.writes.length).toBe(writes + 1); // settled: no more retries
    await registry.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the latest intent wins: deregister during a failing publish retries the withdrawal', async () => {
    vi.useFakeTimers();
    const backend = new FlakyBackend();
    const registry = new ServiceRegistry({ backend, backendRetryMinMs: 100, backendRetryMaxMs: 100 });
    registry.register(asr(1));
    registry.deregister('asr-1');
    await vi.advanceTimersByTimeAsync(0);
    backend.failing = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(backend.writes.at(-1)).toBe('withdraw asr-1');
    await registry.close();
  });

  it('republishes its own instances when they vanish from the store or the backend reconnects', async () => {
    const backend = new FlakyBackend();
    backend.failing = false;
    const registry = new ServiceRegistry({ backend });
    const events: string[] = [];
    registry.on('deregistered', () => events.push('deregistered'));
    registry.on('backendDisconnected', (e) => events.push(`down:${e.error.message}`));
    registry.on('backendConnected', () => events.push('up'));
    registry.register(asr(1));
    await vi.waitFor(() => expect(backend.writes).toEqual(['publish asr-1']));
    backend.listener!.remove('asr-1'); // e.g. our lease expired during a partition
    await vi.waitFor(() => expect(backend.writes).toEqual(['publish asr-1', 'publish asr-1']));
    backend.listener!.snapshot([]);
    await vi.waitFor(() => expect(backend.writes).toHaveLength(3));
    backend.listener!.disconnected(new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'gone'));
    backend.listener!.connected();
    await vi.waitFor(() => expect(backend.writes).toHaveLength(4));
    expect(events).toEqual(['down:gone', 'up']);
    expect(registry.getInstances('asr')).toHaveLength(1);
    await registry.close();
  });

  it('applies remote changes from the backend and drops what a snapshot no longer has', () => {
    const backend = new FlakyBackend();
    const registry = new ServiceRegistry({ backend });
    const remote = (n: number): ServiceInstance => Object.freeze({ ...asr(n), weight: 1 }) as ServiceInstance;
    const events: string[] = [];
    registry.on('registered', (e) => events.push(`+${e.instance.serviceId}:${e.local}`));
    registry.on('deregistered', (e) => events.push(`-${e.instance.serviceId}:${e.local}`));
    backend.listener!.upsert(remote(1));
    backend.listener!.snapshot([remote(2)]);
    backend.listener!.remove('asr-2');
    expect(events).toEqual(['+asr-1:false', '+asr-2:false', '-asr-1:false', '-asr-2:false']);
  });
});

describe('ServiceRegistry: health state machine', () => {
  it('first result decides; then thresholds damp flapping; timers follow the clock', async () => {
    vi.useFakeTimers();
    const results: boolean[] = [false, true, false, false, true, true, true];
    const registry = new ServiceRegistry({
      healthCheck: async () => {
        const next = results.shift();
        if (next === undefined) throw new Error('no more');
        return next;
      },
      healthCheckIntervalMs: 1_000,
      healthCheckJitter: 0,
      unhealthyThreshold: 2,
      healthyThreshold: 3,
    });
    const changes: string[] = [];
    registry.on('healthChanged', (e) => changes.push(`${e.previous}->${e.current}`));
    registry.register(asr(1));
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual(['unknown->unhealthy']);
    await vi.advanceTimersByTimeAsync(1_000); // true: 1 of 3
    await vi.advanceTimersByTimeAsync(1_000); // false: reset
    expect(registry.getHealth('asr-1')).toBe('unhealthy');
    await vi.advanceTimersByTimeAsync(1_000); // false
    await vi.advanceTimersByTimeAsync(3_000); // true x3
    expect(changes).toEqual(['unknown->unhealthy', 'unhealthy->healthy']);
    expect(registry.getHealthyInstances('asr')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000); // throws twice
    expect(changes.at(-1)).toBe('healthy->unhealthy');
    registry.stop();
    expect(vi.getTimerCount()).toBe(0);
    await registry.close();
  });

  it('times a hung check out, and stop() aborts a check in flight', async () => {
    vi.useFakeTimers();
    const signals: AbortSignal[] = [];
    const registry = new ServiceRegistry({
      healthCheck: (_i, signal) => {
        signals.push(signal);
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      healthCheckTimeoutMs: 500,
      healthCheckIntervalMs: 10_000,
    });
    const change = new Promise<unknown>((resolve) => registry.on('healthChanged', resolve));
    registry.register(asr(1));
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(500);
    expect(await change).toMatchObject({ current: 'unhealthy', error: { code: ServiceErrorCode.TIMEOUT } });
    await vi.advanceTimersByTimeAsync(12_000);
    expect(signals).toHaveLength(2);
    registry.stop();
    expect(signals[1]!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await registry.close();
  });

  it('checks instances registered after startHealthChecks and forgets removed ones', async () => {
    vi.useFakeTimers();
    const checked: string[] = [];
    const registry = new ServiceRegistry({
      healthCheck: async (i) => {
        checked.push(i.serviceId);
        return true;
      },
      healthCheckIntervalMs: 1_000,
      healthCheckJitter: 0,
    });
    registry.startHealthChecks();
    registry.register(asr(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(checked).toEqual(['asr-1']);
    registry.deregister('asr-1');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(checked).toEqual(['asr-1']);
    expect(vi.getTimerCount()).toBe(0);
    await registry.close();
  });
});
