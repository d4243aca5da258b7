/**
 * A service process for the shutdown test: an HTTP server with health routes and a slow
 * endpoint, under gracefulShutdown. Prints JSON lines: `{ port }` once listening, and each step
 * of the shutdown as the logger sees it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealthMonitor, createHealthRoutes, gracefulShutdown } from '../src/index';

const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const log = (message: string): void => say({ log: message, at: Date.now() });
const logger = { debug: log, info: log, warn: log, error: log };

const monitor = createHealthMonitor({ serviceName: 'child', cacheTtlMs: 0, logger });
const routes = createHealthRoutes(monitor);
const server = createServer((req, res) => {
  routes(req, res, () => {
    // A request that takes a while: the drain must let it finish.
    setTimeout(() => res.end('done'), Number(process.env.WORK_MS ?? 300));
  });
});
gracefulShutdown({
  monitor,
  shutdownDelayMs: Number(process.env.SHUTDOWN_DELAY_MS ?? 500),
  drain: () => new Promise<void>((resolve) => server.close(() => resolve())),
  logger,
});
server.keepAliveTimeout = 100;
server.listen(0, '127.0.0.1', () => say({ port: (server.address() as AddressInfo).port }));
