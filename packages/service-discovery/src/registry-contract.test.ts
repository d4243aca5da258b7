import { randomUUID } from 'node:crypto';
import { ServiceErrorCode } from '@clone/service-errors';
import { type EtcdServer, startEtcd } from '@clone/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { asr } from '../test/fixtures';
import type { RegistryBackend } from './backend';
import { EtcdBackend } from './etcd';
import { InMemoryBackend } from './memory-backend';
import { ServiceRegistry } from './registry';
import type { ServiceRegistryOptions } from './registry-options';

let etcd: EtcdServer | undefined;

/** One shared store per test: registries made from the same backend see each other. */
const backends: [string, () => RegistryBackend][] = [
  ['in-memory', () => new InMemoryBackend()],
  [
    'etcd',
    () => new EtcdBackend({ hosts: etcd!.endpoint, prefix: `/contract/${randomUUID()}/`, ttlSeconds: 5 }),
  ],
];

const ids = (registry: ServiceRegistry, name = 'asr') =>
  registry
    .getInstances(name)
    .map((i) => i.serviceId)
    .sort();

describe.each(backends)('registry contract: %s backend', (kind, makeBackend) => {
  const open: ServiceRegistry[] = [];
  let backend: RegistryBackend;
  const registry = (options: ServiceRegistryOptions = {}) => {
    const r = new ServiceRegistry({ backend, ...options });
    open.push(r);
    return r;
  };

  beforeAll(async () => {
    if (kind === 'etcd') etcd = await startEtcd();
  });
  afterAll(async () => {
    if (kind === 'etcd') await etcd?.stop();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  // A fresh store (a fresh etcd prefix) for every test.
  const fresh = () => {
    backend = makeBackend();
  };

  it('connects and reports it', async () => {
    fresh();
    const a = registry();
    const connected: unknown[] = [];
    a.on('backendConnected', (event) => connected.push(event));
    // Asserted, not awaited: a registry that never connects fails here with what it reported.
    await vi.waitFor(() => expect(connected).toEqual([{ backend: kind === 'etcd' ? 'etcd' : 'memory' }]), {
      timeout: 10_000,
    });
  });

  it('register without await is visible here at once and in other registries soon after', async () => {
    fresh();
    const a = registry();
    const b = registry();
    const seen = new Promise((resolve) => b.on('registered', resolve));
    a.register(asr(1));
    expect(ids(a)).toEqual(['asr-1']);
    expect(await seen).toMatchObject({ instance: { serviceId: 'asr-1', port: 50051 }, local: false });
    expect(ids(b)).toEqual(['asr-1']);
    expect(b.getServiceInstance('asr').serviceId).toBe('asr-1');
  });

  it('a registry that starts later sees what is already there', async () => {
    fresh();
    const a = registry();
    a.register(asr(1));
    a.register(asr(2, { serviceName: 'tts' }));
    const b = registry();
    await vi.waitFor(() => {
      expect(ids(b)).toEqual(['asr-1']);
      expect(ids(b, 'tts')).toEqual(['asr-2']);
    });
  });

  it('changes and deregistrations reach other registries', async () => {
    fresh();
    const a = registry();
    const b = registry();
    a.register(asr(1));
    a.register(asr(2));
    await vi.waitFor(() => expect(ids(b)).toEqual(['asr-1', 'asr-2']));
    a.register(asr(1, { weight: 5, metadata: { zone: 'b' } }));
    await vi.waitFor(() =>
      expect(b.getInstances('asr').find((i) => i.serviceId === 'asr-1')?.weight).toBe(5),
    );
    expect(b.getInstances('asr').find((i) => i.serviceId === 'asr-1')?.metadata).toEqual({ zone: 'b' });
    const gone = new Promise((resolve) => b.on('deregistered', resolve));
    expect(a.deregister('asr-2')).toBe(true);
    expect(await gone).toMatchObject({ instance: { serviceId: 'asr-2' }, local: false });
    expect(ids(b)).toEqual(['asr-1']);
  });

  it('moving an instance to another service name moves it everywhere', async () => {
    fresh();
    const a = registry();
    const b = registry();
    a.register(asr(1));
    await vi.waitFor(() => expect(ids(b)).toEqual(['asr-1']));
    a.deregister('asr-1');
    a.register(asr(1, { serviceName: 'llm' }));
    await vi.waitFor(() => {
      expect(ids(b)).toEqual([]);
      expect(ids(b, 'llm')).toEqual(['asr-1']);
    });
  });

  it('renaming in place (same serviceId and address) moves it too', async () => {
    fresh();
    const a = registry();
    const b = registry();
    a.register(asr(1));
    await vi.waitFor(() => expect(ids(b)).toEqual(['asr-1']));
    a.register(asr(1, { serviceName: 'llm' }));
    expect(ids(a, 'llm')).toEqual(['asr-1']);
    await vi.waitFor(() => expect(ids(b, 'llm')).toEqual(['asr-1']));
    // Give a stray deletion of the old key time to arrive; it must not remove the moved instance.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ids(b)).toEqual([]);
    expect(ids(b, 'llm')).toEqual(['asr-1']);
  });

  it("another registry's instances cannot be deregistered from here", async () => {
    fresh();
    const a = registry();
    const b = registry();
    a.register(asr(1));
    await vi.waitFor(() => expect(ids(b)).toEqual(['asr-1']));
    expect(b.deregister('asr-1')).toBe(false);
    expect(ids(b)).toEqual(['asr-1']);
  });

  it('a serviceId known at another address is refused synchronously', async () => {
    fresh();
    const a = registry();
    const b = registry();
    a.register(asr(1));
    await vi.waitFor(() => expect(ids(b)).toEqual(['asr-1']));
    expect(() => b.register(asr(1, { port: 1 }))).toThrow(
      expect.objectContaining({ code: ServiceErrorCode.BAD_REQUEST }),
    );
  });

  it('closing a registry withdraws its instances from every view', async () => {
    fresh();
    const a = registry();
    const b = registry();
    for (let i = 1; i <= 20; i++) a.register(asr(i));
    await vi.waitFor(() => expect(ids(b)).toHaveLength(20));
    await a.close();
    await vi.waitFor(() => expect(ids(b)).toEqual([]));
  });

  it('health is each registry’s own judgement', async () => {
    fresh();
    const a = registry({ healthCheck: async () => false, healthCheckIntervalMs: 60_000 });
    const b = registry({ healthCheck: async () => true, healthCheckIntervalMs: 60_000 });
    a.register(asr(1));
    a.startHealthChecks();
    b.startHealthChecks();
    await vi.waitFor(() => {
      expect(a.getHealth('asr-1')).toBe('unhealthy');
      expect(b.getHealth('asr-1')).toBe('healthy');
    });
    expect(a.getHealthyInstances('asr')).toEqual([]);
    expect(b.getHealthyInstances('asr').map((i) => i.serviceId)).toEqual(['asr-1']);
  });
});
