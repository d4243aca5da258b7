// provides: logger, db, rabbitmq, app, createHealthRoutes
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealthRoutes } from '@clone/health';
import type { Logger } from '@clone/service-errors';

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * A real HTTP server with a connect-style `app.use`, a database and a broker connection that
 * answer, and the sample's `access-service`, which does not resolve here: the report shows it
 * down (and the service not ready), as it would be while that service is missing.
 */
export default async function setup() {
  const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const db = { ping: async () => 'PONG' };
  const rabbitmq = { isConnected: () => true };
  const handlers: Handler[] = [];
  const app = { use: (handler: Handler) => handlers.push(handler) };
  const server = createServer((req, res) => {
    const next = (i: number): void => {
      const handler = handlers[i];
      if (handler === undefined) {
        res.statusCode = 404;
        res.end();
      } else handler(req, res, () => next(i + 1));
    };
    next(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    logger,
    db,
    rabbitmq,
    app,
    createHealthRoutes,
    teardown: async () => {
      try {
        const live = await fetch(`${base}/health/live`);
        const ready = await fetch(`${base}/health/ready`);
        const report = (await (await fetch(`${base}/health`)).json()) as {
          checks: Record<string, { status: string }>;
        };
        const statuses = Object.values(report.checks).map((c) => c.status);
        if (live.status !== 200 || ready.status !== 503 || statuses.join() !== 'up,up,down')
          throw new Error(
            `unexpected health: live ${live.status}, ready ${ready.status}, checks ${statuses}`,
          );
        console.log('GET /health/live', live.status, '/health/ready', ready.status, report.checks);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
