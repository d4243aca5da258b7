// provides: userServiceUrl
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real `user-service` on loopback for the design document's ServiceHttpClient usage, written
 * with ServiceClient. It answers every route with JSON; teardown checks that each request
 * carried `X-Service-Name: order-service` and a correlation id, and that the JSON bodies arrived.
 */
export default async function setup() {
  const seen: Array<{ line: string; caller: unknown; correlation: unknown; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({
        line: `${req.method} ${req.url}`,
        caller: req.headers['x-service-name'],
        correlation: req.headers['x-correlation-id'],
        body,
      });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'DELETE') {
        res.statusCode = 204;
        res.end();
      } else {
        res.end(JSON.stringify({ id: req.method === 'POST' ? 'user-9' : '123', email: 'user@example.com' }));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    userServiceUrl: `http://127.0.0.1:${port}`,
    teardown: () => {
      server.closeAllConnections();
      server.close();
      const lines = seen.map((s) => s.line).join(', ');
      if (lines !== 'GET /users/123, POST /users, PUT /users/123, DELETE /users/123') {
        throw new Error(`user-service saw ${lines}`);
      }
      for (const s of seen) {
        if (s.caller !== 'order-service') throw new Error(`${s.line} came without X-Service-Name`);
        if (typeof s.correlation !== 'string' || s.correlation === '')
          throw new Error(`${s.line} came without a correlation id`);
      }
      if (!seen[1]!.body.includes('user@example.com')) throw new Error('the POST body did not arrive');
    },
  };
}
