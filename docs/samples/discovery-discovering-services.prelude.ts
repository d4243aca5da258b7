// provides: discovery
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceRegistry } from '@clone/service-discovery';

/**
 * The guide's "Discovering Services" sample: two real `access-service` instances on loopback that
 * answer `GET /health`, registered and health-checked, plus one registered at a host that does
 * not resolve, which the health check takes out of rotation. Teardown checks that the sample's
 * lookups only ever returned the healthy two.
 */
export default async function setup() {
  const servers = await Promise.all(
    [0, 1].map(async () => {
      const server = createServer((req, res) => {
        res.statusCode = req.url === '/health' ? 200 : 404;
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  const discovery = new ServiceRegistry({ healthCheckIntervalMs: 30_000 });
  for (const [i, port] of ports.entries()) {
    discovery.register({
      serviceId: `access-service-${i + 1}`,
      serviceName: 'access-service',
      host: '127.0.0.1',
      port,
      protocol: 'http',
      healthCheckUrl: '/health',
    });
  }
  discovery.register({
    serviceId: 'access-service-3',
    serviceName: 'access-service',
    host: 'access-service.invalid',
    port: 3002,
    protocol: 'http',
  });
  const settled = new Promise<void>((resolve) => {
    let pending = 3;
    discovery.on('healthChanged', () => {
      if (--pending === 0) resolve();
    });
  });
  discovery.startHealthChecks();
  await settled;
  const urls = new Set(ports.map((port) => `http://127.0.0.1:${port}`));
  return {
    discovery,
    teardown: async () => {
      const healthy = discovery.discover('access-service').map((i) => i.serviceId);
      const url = discovery.getServiceUrl('access-service');
      await discovery.close();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      if (healthy.sort().join() !== 'access-service-1,access-service-2')
        throw new Error(`in rotation: ${healthy}`);
      if (!urls.has(url)) throw new Error(`unexpected URL ${url}`);
    },
  };
}
