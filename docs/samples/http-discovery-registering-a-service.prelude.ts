// provides: logger
import dns from 'node:dns';
import { createServer } from 'node:http';
import { createRegistryHttpApi, ServiceRegistry } from '@clone/service-discovery';
import type { Logger } from '@clone/service-errors';

/**
 * The guide's "Registering a Service" sample over HTTP, as deployed: the gateway `api-gateway`
 * serves the registry API on port 3000. Here that is a real node:http server on
 * 127.0.0.1:3000, and `api-gateway` resolves to 127.0.0.1 (what a Docker network or
 * /etc/hosts does). Teardown checks the registration arrived with the host the registry saw,
 * and that the client logged nothing alarming.
 */
export default async function setup() {
  const lines: string[] = [];
  const record = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };

  const registry = new ServiceRegistry();
  const api = createRegistryHttpApi(registry, { ttlMs: 30_000 });
  const gateway = createServer((req, res) => {
    if (!api.handle(req, res)) res.writeHead(404).end();
  });
  // Another run of this sample may hold the port for a moment: wait for it, up to a minute.
  for (let attempt = 0; ; attempt++) {
    const error = await new Promise<Error | undefined>((resolve) => {
      gateway.once('error', resolve);
      gateway.listen(3000, '127.0.0.1', () => {
        gateway.off('error', resolve);
        resolve(undefined);
      });
    });
    if (error === undefined) break;
    if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt === 300)
      throw new Error(`port 3000 is needed for this sample: ${error.message}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const lookup = dns.lookup;
  const resolveGateway = ((host: string, ...rest: unknown[]) =>
    (lookup as (...args: unknown[]) => void)(
      host === 'api-gateway' ? '127.0.0.1' : host,
      ...rest,
    )) as typeof dns.lookup;
  dns.lookup = resolveGateway;

  return {
    logger,
    teardown: async () => {
      dns.lookup = lookup;
      const [instance] = registry.discover('auth-service');
      api.close();
      gateway.closeAllConnections();
      await new Promise((resolve) => gateway.close(resolve));
      await registry.close();
      if (instance?.host !== '127.0.0.1' || instance.port !== 3001 || instance.version !== '1.0.0')
        throw new Error(`registered: ${JSON.stringify(instance)}`);
      if (JSON.stringify(instance.metadata) !== '{"capabilities":["authentication","user-management"]}')
        throw new Error(`metadata: ${JSON.stringify(instance.metadata)}`);
      const bad = lines.filter((l) => l.startsWith('warn') || l.startsWith('error'));
      if (bad.length > 0) throw new Error(`unexpected log lines: ${bad.join('; ')}`);
    },
  };
}
