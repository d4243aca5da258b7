// provides: discovery
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createRegistryHttpApi,
  createServiceDiscoveryClient,
  ServiceRegistry,
} from '@clone/service-discovery';

/**
 * The guide's "Discovering Services" sample over HTTP: a registry API on a real node:http
 * server (the gateway), two `access-service` instances registered through it by their own
 * discovery clients, and `discovery`, the client of the service doing the lookups. Teardown
 * checks what the registry holds, then closes every client (which deregisters) and the server.
 */
export default async function setup() {
  const registry = new ServiceRegistry();
  const api = createRegistryHttpApi(registry, { ttlMs: 30_000 });
  const gateway = createServer((req, res) => {
    if (!api.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  const registryUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  const instances = [3002, 3012].map((port) => ({
    client: createServiceDiscoveryClient({ registryUrl, host: '127.0.0.1' }),
    port,
  }));
  for (const { client, port } of instances)
    await client.register({ name: 'access-service', version: '1.0.0', port });
  const discovery = createServiceDiscoveryClient({ registryUrl });
  return {
    discovery,
    teardown: async () => {
      const url = await discovery.getServiceUrl('access-service');
      await discovery.close();
      for (const { client } of instances) await client.close();
      const left = registry.discover('access-service').length;
      api.close();
      gateway.closeAllConnections();
      await new Promise((resolve) => gateway.close(resolve));
      await registry.close();
      if (!['http://127.0.0.1:3002', 'http://127.0.0.1:3012'].includes(url))
        throw new Error(`unexpected URL ${url}`);
      if (left !== 0) throw new Error(`${left} instances still registered after close()`);
    },
  };
}
