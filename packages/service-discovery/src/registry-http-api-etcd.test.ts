import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EtcdServer, startEtcd } from '@clone/test-servers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServiceDiscoveryClient } from './discovery-client';
import { EtcdBackend } from './etcd';
import { ServiceRegistry } from './registry';
import { createRegistryHttpApi } from './registry-http-api';

let etcd: EtcdServer;
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await etcd.stop();
});

/** A gateway replica: a registry on the shared etcd, its HTTP API on a real node:http server. */
async function replica(prefix: string) {
  const registry = new ServiceRegistry({ backend: new EtcdBackend({ hosts: etcd.endpoint, prefix }) });
  const api = createRegistryHttpApi(registry, { ttlMs: 30_000 });
  const server = createServer((req, res) => {
    if (!api.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    api.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await registry.close();
  });
  return { registry, api, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('registry HTTP API over the etcd backend', () => {
  it('a registration made through one gateway replica is discovered through another, and leaves both', async () => {
    const prefix = `/test-${randomUUID()}/`;
    const a = await replica(prefix);
    const b = await replica(prefix);
    const service = createServiceDiscoveryClient({ registryUrl: a.url, host: '127.0.0.1' });
    const caller = createServiceDiscoveryClient({ registryUrl: b.url });
    cleanup.push(() => caller.close());
    const instance = await service.register({ name: 'auth-service', version: '1.0.0', port: 3001 });
    await vi.waitFor(async () => expect(await caller.discover('auth-service')).toEqual([instance]), {
      timeout: 10_000,
    });
    expect(await caller.getServiceUrl('auth-service')).toBe('http://127.0.0.1:3001');
    await service.close();
    await vi.waitFor(async () => expect(await caller.discover('auth-service')).toEqual([]), {
      timeout: 10_000,
    });
    expect(b.registry.getInstances('auth-service')).toEqual([]);
  }, 30_000);
});
