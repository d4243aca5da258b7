// provides: callExternalService
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real "external service" on loopback: an HTTP endpoint answering JSON, and
 * `callExternalService()` calling it (a fresh connection per call, so nothing lingers).
 */
export default async function setup() {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', servedAt: new Date().toISOString() }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const callExternalService = (): Promise<{ status: string; servedAt: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(JSON.parse(body)));
      });
      req.on('error', reject);
      req.end();
    });

  return {
    callExternalService,
    teardown: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}
