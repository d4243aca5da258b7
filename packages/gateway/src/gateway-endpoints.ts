import type { ServerResponse } from 'node:http';
import type { CircuitBreaker } from '@clone/service-errors';
import type { ServiceUpstreams } from './service-upstreams';

/** What the built-in endpoints read from the gateway. @internal */
export interface GatewayView {
  readonly startedAt: number;
  now(): number;
  readonly draining: boolean;
  readonly inFlight: number;
  readonly requests: number;
  readonly routes: readonly { path: string; service: string; auth: boolean }[];
  services(): Iterable<{ upstreams: ServiceUpstreams; breaker: CircuitBreaker }>;
}

/** Overall state: `unhealthy` while draining, `degraded` when a routed service has no instance in rotation. */
export type GatewayHealth = 'healthy' | 'degraded' | 'unhealthy';

function overall(view: GatewayView): GatewayHealth {
  if (view.draining) return 'unhealthy';
  for (const { upstreams, breaker } of view.services())
    if (upstreams.available === 0 || breaker.state === 'OPEN') return 'degraded';
  return 'healthy';
}

function send(res: ServerResponse, status: number, data: unknown, requestId: string, now: number): void {
  const body = JSON.stringify({
    success: status < 400,
    data,
    timestamp: new Date(now).toISOString(),
    requestId,
  });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * Answers `<base>/health`, `<base>/health/detailed`, `<base>/gateway/status` and
 * `<base>/gateway/services`; returns false for any other path. Health answers 503 while the
 * gateway drains, so a load balancer in front stops sending before the listener closes.
 * @internal
 */
export function answerBuiltIn(
  path: string,
  base: string,
  view: GatewayView,
  res: ServerResponse,
  requestId: string,
): boolean {
  if (!path.startsWith(base)) return false;
  const rest = path.slice(base.length);
  const now = view.now();
  switch (rest) {
    case '/health': {
      const status = overall(view);
      send(res, status === 'unhealthy' ? 503 : 200, { status }, requestId, now);
      return true;
    }
    case '/health/detailed': {
      const status = overall(view);
      const services = [...view.services()].map(({ upstreams, breaker }) => ({
        name: upstreams.name,
        status:
          upstreams.available === 0 ? 'unavailable' : breaker.state === 'OPEN' ? 'circuit-open' : 'available',
        circuit: breaker.state,
        instances: upstreams.upstreams.map((u) => u.toJSON()),
      }));
      send(res, status === 'unhealthy' ? 503 : 200, { status, services }, requestId, now);
      return true;
    }
    case '/gateway/status':
      send(
        res,
        200,
        {
          status: view.draining ? 'draining' : 'running',
          uptimeMs: now - view.startedAt,
          inFlight: view.inFlight,
          requests: view.requests,
          routes: view.routes.length,
        },
        requestId,
        now,
      );
      return true;
    case '/gateway/services':
      send(
        res,
        200,
        {
          routes: view.routes,
          services: [...view.services()].map(({ upstreams }) => ({
            name: upstreams.name,
            instances: upstreams.upstreams.map((u) => ({
              serviceId: u.instance.serviceId,
              url: u.origin,
              version: u.instance.version,
              state: u.state,
            })),
          })),
        },
        requestId,
        now,
      );
      return true;
    default:
      return false;
  }
}
