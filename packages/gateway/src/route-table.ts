import { isUnsafeKey } from '@clone/internal';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

/**
 * One row of the route table: requests under `path` go to `service`, after a bearer token
 * check when `auth` is on. The seed's shape (`/api/v1/users/*` → `user-service`, auth yes/no).
 */
export interface GatewayRoute {
  /** A prefix ending in `/*`, e.g. `/api/v1/users/*`; the bare prefix (`/api/v1/users`) matches too. */
  path: string;
  /** The discovered service name the requests go to, e.g. `user-service`. */
  service: string;
  /** Whether a valid user token is required (default true: a route is public only when it says so). */
  auth?: boolean | undefined;
  /**
   * What is cut from the front of the path before it is forwarded (default the gateway's
   * `stripPrefix`, `/api/v1`): `/api/v1/users/profile` reaches the service as `/users/profile`.
   */
  stripPrefix?: string | undefined;
  /**
   * A route of the gateway's `rateLimits` limiter whose tiers replace the default ones for
   * these requests (e.g. `payments`: 10 per minute).
   */
  rateLimit?: string | undefined;
}

/** A route as the gateway uses it. @internal */
export interface CompiledRoute {
  readonly path: string;
  readonly prefix: string;
  readonly service: string;
  readonly auth: boolean;
  readonly stripPrefix: string;
  readonly rateLimit: string | undefined;
}

const PATH = /^\/[A-Za-z0-9._~\-/]*$/;

/** What a route may say; anything else is a typo that would otherwise be ignored silently. */
const ROUTE_FIELDS = new Set(['path', 'service', 'auth', 'stripPrefix', 'rateLimit']);

function badRoute(index: number, field: string, text: string, value: unknown): ServiceError {
  return new ServiceError(
    ServiceErrorCode.BAD_REQUEST,
    `Gateway: routes.${index}.${field} ${text}, got ${JSON.stringify(value) ?? String(value)}`,
    undefined,
    { retryable: false, metadata: { field: `routes.${index}.${field}` } },
  );
}

/**
 * The route table, longest prefix first, so `/api/v1/users/admin/*` wins over
 * `/api/v1/users/*` whatever order they were given in. Matching is a scan of a few prefixes:
 * a gateway has tens of routes, where a trie would cost more than it saves.
 */
export class RouteTable {
  readonly routes: readonly CompiledRoute[];

  constructor(routes: readonly GatewayRoute[], defaultStrip: string) {
    const compiled: CompiledRoute[] = [];
    const seen = new Set<string>();
    routes.forEach((route, i) => {
      for (const field of Object.keys(route))
        if (!ROUTE_FIELDS.has(field))
          throw badRoute(
            i,
            field,
            'is not a route option (path, service, auth, stripPrefix, rateLimit)',
            (route as unknown as Record<string, unknown>)[field],
          );
      const path = route.path;
      if (typeof path !== 'string' || !PATH.test(path.endsWith('/*') ? path.slice(0, -2) || '/' : path))
        throw badRoute(i, 'path', "must be a path such as '/api/v1/users/*'", path);
      const prefix = path.endsWith('/*') ? path.slice(0, -2) : path.replace(/\/$/, '');
      if (seen.has(prefix)) throw badRoute(i, 'path', 'is listed twice', path);
      seen.add(prefix);
      if (typeof route.service !== 'string' || route.service.length === 0 || isUnsafeKey(route.service))
        throw badRoute(i, 'service', 'must be a service name', route.service);
      if (route.auth !== undefined && typeof route.auth !== 'boolean')
        throw badRoute(i, 'auth', 'must be true or false', route.auth);
      if (route.rateLimit !== undefined && typeof route.rateLimit !== 'string')
        throw badRoute(i, 'rateLimit', 'must name a route of the rate limiter', route.rateLimit);
      const strip = route.stripPrefix ?? defaultStrip;
      if (typeof strip !== 'string' || (strip !== '' && !prefix.startsWith(strip)))
        throw badRoute(i, 'stripPrefix', `must be '' or a start of '${prefix}'`, strip);
      compiled.push({
        path,
        prefix,
        service: route.service,
        auth: route.auth ?? true,
        stripPrefix: strip,
        rateLimit: route.rateLimit,
      });
    });
    this.routes = compiled.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The route of `pathname` (no query), or undefined. A prefix matches whole segments only. */
  match(pathname: string): CompiledRoute | undefined {
    for (const route of this.routes) {
      const p = route.prefix;
      if (
        pathname.startsWith(p) &&
        (pathname.length === p.length || pathname.charCodeAt(p.length) === 47 || p === '')
      )
        return route;
    }
    return undefined;
  }

  /** The services the table names, once each. */
  services(): string[] {
    return [...new Set(this.routes.map((r) => r.service))];
  }
}
