import { ServiceRegistry } from '@clone/service-discovery';
import { EtcdBackend } from '@clone/service-discovery/etcd';
import { type EtcdServer, startEtcd } from '@clone/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../src/index';
import { call, startUpstream, stopUpstreams } from './support';

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await stopUpstreams();
  await etcd?.stop();
});

describe('instances from an etcd registry', () => {
  it('routes to instances another process registered in etcd, and stops when they leave', async () => {
    const prefix = `/gateway-test-${Date.now()}/`;
    const serviceSide = new ServiceRegistry({
      backend: new EtcdBackend({ hosts: etcd.endpoint, prefix, ttlSeconds: 5 }),
    });
    const gatewaySide = new ServiceRegistry({
      backend: new EtcdBackend({ hosts: etcd.endpoint, prefix, ttlSeconds: 5 }),
    });
    const users = await startUpstream('users-etcd');
    const gateway = createGateway({
      routes: [{ path: '/api/v1/users/*', service: 'user-service', auth: false }],
      discovery: gatewaySide,
      healthCheckIntervalMs: 3_600_000,
      // Off, or the last good copy would answer once the instance is gone.
      cache: false,
    });
    const url = await gateway.listen();
    try {
      serviceSide.register({
        serviceId: 'users-etcd',
        serviceName: 'user-service',
        host: '127.0.0.1',
        port: users.port,
        protocol: 'http',
      });
      const deadline = Date.now() + 10_000;
      let res = await call(`${url}/api/v1/users/1`);
      while (res.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        res = await call(`${url}/api/v1/users/1`);
      }
      expect(res.json).toMatchObject({ instance: 'users-etcd', url: '/users/1' });
      serviceSide.deregister('users-etcd');
      const gone = Date.now() + 10_000;
      while ((await call(`${url}/api/v1/users/1`)).status === 200 && Date.now() < gone)
        await new Promise((r) => setTimeout(r, 50));
      expect((await call(`${url}/api/v1/users/1`)).status).toBe(503);
    } finally {
      await gateway.close();
      await serviceSide.close();
      await gatewaySide.close();
    }
  });
});
