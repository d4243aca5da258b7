// provides: unreliableOperation
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceError } from '@clone/service-errors';

/**
 * A real flaky service on loopback: the first request gets `503 Service Unavailable`, the
 * next ones `200`. `unreliableOperation()` calls it and turns an HTTP failure into a
 * ServiceError (503 → SERVICE_UNAVAILABLE, gRPC status UNAVAILABLE), which the sample's
 * `retryableErrors: ['UNAVAILABLE', 'TIMEOUT']` retries.
 */
export default async function setup() {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    if (requests === 1) {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: 'warming up' }));
      return;
    }
    res.end(JSON.stringify({ status: 'ok', requests }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const unreliableOperation = (): Promise<{ status: string; requests: number }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          if (status >= 400) {
            reject(ServiceError.fromHttpStatus(status, `flaky service answered ${status}`, 'flaky-service'));
          } else {
            resolve(JSON.parse(body));
          }
        });
      });
      req.on('error', reject);
      req.end();
    });

  return {
    unreliableOperation,
    teardown: async () => {
      if (requests < 2) throw new Error(`expected a retry, saw ${requests} request(s)`);
      server.close();
      await once(server, 'close');
    },
  };
}
