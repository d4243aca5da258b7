// provides: discovery, logger
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callContextMiddleware } from '@clone/http-client';
import { ServiceRegistry } from '@clone/service-discovery';
import type { Logger } from '@clone/service-errors';

/**
 * The guide's "Creating Service Clients" sample: `discovery` is a ServiceRegistry (in memory)
 * where a real `access-service` on loopback is registered, answering `GET /api/doors` and
 * `POST /api/doors` with JSON. Teardown checks what the service saw (one correlation id per
 * request, the door's body) and that nothing was logged as a warning or an error.
 */
export default async function setup() {
  const doors: unknown[] = [];
  const seen: string[] = [];
  const inContext = callContextMiddleware();
  const server = createServer((req, res) => {
    inContext(req, res, () => {
      seen.push(`${req.method} ${req.url}`);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST') {
          const door = { id: `door-${doors.length + 1}`, ...JSON.parse(body) };
          doors.push(door);
          res.statusCode = 201;
          res.end(JSON.stringify(door));
        } else {
          res.end(JSON.stringify(doors));
        }
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const lines: string[] = [];
  const record = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const discovery = new ServiceRegistry({ logger });
  discovery.register({
    serviceId: 'access-1',
    serviceName: 'access-service',
    host: '127.0.0.1',
    port,
    protocol: 'http',
  });

  return {
    discovery,
    logger,
    teardown: async () => {
      server.closeAllConnections();
      server.close();
      await discovery.close();
      if (seen.join(', ') !== 'GET /api/doors, POST /api/doors')
        throw new Error(`access-service saw ${seen.join(', ')}`);
      if (doors.length !== 1) throw new Error('the door was not created');
      const bad = lines.filter((l) => l.startsWith('warn') || l.startsWith('error'));
      if (bad.length > 0) throw new Error(`unexpected log lines: ${bad.join('; ')}`);
    },
  };
}
