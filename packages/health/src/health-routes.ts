import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthMonitor } from './health-monitor';

/** Options of {@link createHealthRoutes}. */
export interface HealthRoutesOptions {
  /** Where the routes live (default `/health`): `${path}`, `${path}/live`, `${path}/ready`. */
  path?: string;
}

/**
 * A request handler for node:http and Express/connect (`(req, res, next)`): `GET /health` (the
 * full report), `/health/live` and `/health/ready`, 200 when up and 503 when not, JSON bodies,
 * never cached by proxies. Any other request goes to `next` (or gets a 404 without one), so it
 * can be mounted with `app.use(...)` or be a whole server's handler.
 */
export function createHealthRoutes(
  monitor: HealthMonitor,
  options: HealthRoutesOptions = {},
): (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void {
  const base = (options.path ?? '/health').replace(/\/+$/, '');
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route =
      path === base
        ? 'report'
        : path === `${base}/live`
          ? 'live'
          : path === `${base}/ready`
            ? 'ready'
            : undefined;
    if (route === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      if (next) next();
      else {
        res.statusCode = 404;
        res.end();
      }
      return;
    }
    answer(monitor, route, req, res).catch((error: unknown) => {
      if (next) next(error);
      else if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  };
}

async function answer(
  monitor: HealthMonitor,
  route: 'report' | 'live' | 'ready',
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let up: boolean;
  let body: unknown;
  if (route === 'live') {
    up = await monitor.live();
    body = { status: up ? 'up' : 'down', service: monitor.serviceName };
  } else {
    const report = await monitor.report();
    up = report.ready;
    body =
      route === 'ready'
        ? { status: up ? 'up' : 'down', service: report.service, shuttingDown: report.shuttingDown }
        : report;
  }
  res.statusCode = up ? 200 : 503;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
}
