import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asr } from '../test/fixtures';
import type { BackendConnection, BackendListener, RegistryBackend } from './backend';
import type { ServiceInstance } from './instance';
import { ServiceRegistry } from './registry';

afterEach(() => {
  vi.useRealTimers();
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

  it('retry delays are backoffDelay with equal jitter, drawn from the injected random source', async () => {
    vi.useFakeTimers();
    const delays = async (random: () => number) => {
      const backend = new FlakyBackend();
      const registry = new ServiceRegistry({
        backend,
        backendRetryMinMs: 100,
        backendRetryMaxMs: 400,
        random,
      });
      const seen: number[] = [];
      registry.on('backendError', (e) => seen.push(e.retryInMs));
      registry.register(asr(1));
      await vi.advanceTimersByTimeAsync(2_000);
      await registry.close();
      return seen.slice(0, 5);
    };
    // Equal jitter: between half the ceiling and the ceiling, which doubles from 100 up to 400.
    expect(await delays(() => 0)).toEqual([50, 100, 200, 200, 200]);
    expect(await delays(() => 0.5)).toEqual([75, 150, 300, 300, 300]);
  });
});
