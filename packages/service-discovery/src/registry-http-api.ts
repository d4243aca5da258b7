import type { IncomingMessage, ServerResponse } from 'node:http';
import { clockOption, durationMs, functionOption, intAtLeast, loggerOption } from '@clone/internal';
import {
  type Clock,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type TimerHandle,
  writeErrorResponse,
} from '@clone/service-errors';
import { z } from 'zod';
import { parseHttpRegistration } from './http-registration';
import type { ServiceInstance } from './instance';
import { type Lease, RegistrationLeases } from './registration-leases';
import type { ServiceRegistry } from './registry';

const apiOptionsSchema = z.strictObject({
  /** Where the API is mounted: every route is under it. Default `/registry`. */
  prefix: z
    .string()
    .regex(/^(\/[^/?#\s]+)+$/, { error: "must be a path like '/registry' (no trailing slash)" })
    .default('/registry'),
  /** How long a registration lives without a heartbeat. Default 30 s. */
  ttlMs: durationMs().default(30_000),
  /** How often expired registrations are removed between requests. Default 1 s. */
  sweepIntervalMs: durationMs().default(1_000),
  /** Largest request body accepted. Default 64 KiB. */
  maxBodyBytes: intAtLeast(1).default(64 * 1024),
  /**
   * Checks a request before it is served: returns true to go on, or answers it itself and
   * returns false. E.g. `serviceAuthMiddleware(serviceAuth, ['registry:write']).authenticate`.
   */
  authenticate: functionOption<(req: IncomingMessage, res: ServerResponse) => boolean>().optional(),
  clock: clockOption<Clock>().default(systemClock),
  logger: loggerOption<Logger>().default(noopLogger),
});

/** Options of {@link createRegistryHttpApi}. */
export type RegistryHttpApiOptions = z.input<typeof apiOptionsSchema>;

/** What a successful answer looks like (the gateway's response format). */
export interface RegistryApiResponse<T> {
  success: true;
  data: T;
}

/** What a registration or a heartbeat is answered with. */
export interface RegistrationLease {
  instance: ServiceInstance;
  /** The lease's length: renew well within it (a third is usual). */
  ttlMs: number;
  /** When the registration expires unless renewed (ISO 8601). */
  expiresAt: string;
}

/** A service in `GET <prefix>/services`. */
export interface RegisteredService {
  name: string;
  /** Every registered instance. */
  instances: number;
  /** Those in rotation (not found unhealthy). */
  healthy: number;
}

/** The registry HTTP API, ready to mount. */
export interface RegistryHttpApi {
  readonly prefix: string;
  readonly ttlMs: number;
  /**
   * Serves `req` when its path is under `prefix` and returns true (the answer may still be on
   * its way); returns false, touching nothing, for any other path.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** The connect/Express form: serves its paths, calls `next()` for the others. */
  middleware(req: IncomingMessage, res: ServerResponse, next: () => void): void;
  /** Removes the registrations whose lease ran out now; returns their ids. */
  sweep(): string[];
  /** Stops the expiry timer and deregisters every instance registered through this API. */
  close(): void;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function routeError(
  code: ServiceErrorCode,
  message: string,
  metadata?: Record<string, unknown>,
): ServiceError {
  return new ServiceError(code, message, 'service-registry', { retryable: false, metadata });
}

/** The caller's address as the registry should dial it back (IPv4-mapped IPv6 unwrapped). */
function remoteHost(req: IncomingMessage): string | undefined {
  const address = req.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/** The request body as JSON, refused with BAD_REQUEST when larger than `limit` or not JSON. */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(routeError(ServiceErrorCode.BAD_REQUEST, `request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    // A caller that goes away mid-body settles the read, so nothing waits on it.
    req.on('close', () => {
      if (!ended) reject(routeError(ServiceErrorCode.BAD_REQUEST, 'request body was cut off'));
    });
    req.on('end', () => {
      ended = true;
      if (size > limit) return;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text === '' ? {} : JSON.parse(text));
      } catch {
        reject(routeError(ServiceErrorCode.BAD_REQUEST, 'request body is not valid JSON'));
      }
    });
  });
}

/**
 * A small HTTP API over a {@link ServiceRegistry} (in memory or on etcd), for services that
 * register and discover over HTTP (`createServiceDiscoveryClient`). Mount it on any node:http
 * server or gateway, under `prefix` (default `/registry`):
 *
 * | method and path                         | does                                                 |
 * | --------------------------------------- | ---------------------------------------------------- |
 * | `POST   /registry/instances`            | registers (`{ name, port, version?, host?, … }`) → 201 |
 * | `PUT    /registry/instances/:id/heartbeat` | renews the lease; 404 once it expired (register again) |
 * | `DELETE /registry/instances/:id`        | deregisters                                          |
 * | `GET    /registry/services`             | the services: `[{ name, instances, healthy }]`       |
 * | `GET    /registry/services/:name`       | the instances of `name` in rotation                  |
 *
 * Registrations expire `ttlMs` after their last heartbeat. Answers are `{ success: true, data }`,
 * errors the gateway's error body. The registry stays the caller's to close.
 *
 * ```ts
 * const api = createRegistryHttpApi(registry, { ttlMs: 30_000 });
 * http.createServer((req, res) => api.handle(req, res) || app(req, res));
 * ```
 */
export function createRegistryHttpApi(
  registry: ServiceRegistry,
  options: RegistryHttpApiOptions = {},
): RegistryHttpApi {
  if (typeof (registry as Partial<ServiceRegistry> | null)?.register !== 'function') {
    throw routeError(
      ServiceErrorCode.BAD_REQUEST,
      'createRegistryHttpApi: registry must be a ServiceRegistry',
      {
        field: 'registry',
      },
    );
  }
  const o = parseOptions(apiOptionsSchema, options, 'createRegistryHttpApi');
  const leases = new RegistrationLeases(o.ttlMs, o.clock);
  const instancesPath = `${o.prefix}/instances`;
  const servicesPath = `${o.prefix}/services`;
  let timer: TimerHandle | undefined;
  let closed = false;

  const sweep = (): string[] => {
    const expired = leases.takeExpired();
    for (const serviceId of expired) {
      registry.deregister(serviceId);
      o.logger.info('service registry API: registration expired', { serviceId });
    }
    return expired;
  };
  const arm = (): void => {
    timer = o.clock.setTimeout(
      () => {
        sweep();
        if (!closed) arm();
      },
      o.sweepIntervalMs,
      true,
    );
  };
  arm();

  const answer = ({ instance, expiresAt }: Lease): RegistrationLease => ({
    instance,
    ttlMs: o.ttlMs,
    expiresAt: new Date(expiresAt).toISOString(),
  });

  const send = (res: ServerResponse, status: number, data: unknown): void => {
    res.statusCode = status;
    res.setHeader('content-type', JSON_TYPE);
    res.end(JSON.stringify({ success: true, data }));
  };

  const leaseOf = (serviceId: string): Lease => {
    const found = leases.get(serviceId);
    if (found === undefined) {
      throw routeError(
        ServiceErrorCode.NOT_FOUND,
        `no registration '${serviceId}' (expired or never made): register again`,
        { serviceId },
      );
    }
    return found;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    sweep();
    const method = req.method ?? 'GET';
    if (path === instancesPath && method === 'POST') {
      const body = await readJson(req, o.maxBodyBytes);
      const host = remoteHost(req);
      const instance = parseHttpRegistration(body, host ?? '', 'registry API register');
      const registered = registry.register(instance);
      const granted = leases.grant(registered);
      o.logger.info('service registry API: registered', {
        serviceId: registered.serviceId,
        serviceName: registered.serviceName,
      });
      return send(res, 201, answer(granted));
    }
    if (path.startsWith(`${instancesPath}/`)) {
      const rest = path.slice(instancesPath.length + 1);
      const heartbeat = rest.endsWith('/heartbeat');
      const serviceId = decode(heartbeat ? rest.slice(0, -'/heartbeat'.length) : rest);
      if (heartbeat && (method === 'PUT' || method === 'POST')) {
        leaseOf(serviceId);
        return send(res, 200, answer(leases.renew(serviceId)!));
      }
      if (!heartbeat && method === 'DELETE') {
        leaseOf(serviceId);
        leases.delete(serviceId);
        registry.deregister(serviceId);
        o.logger.info('service registry API: deregistered', { serviceId });
        return send(res, 200, { serviceId, removed: true });
      }
    }
    if (path === servicesPath && method === 'GET') {
      const services: RegisteredService[] = registry.getServiceNames().map((name) => ({
        name,
        instances: registry.getInstances(name).length,
        healthy: registry.discover(name).length,
      }));
      return send(res, 200, services);
    }
    if (path.startsWith(`${servicesPath}/`) && method === 'GET') {
      return send(res, 200, registry.discover(decode(path.slice(servicesPath.length + 1))));
    }
    throw routeError(ServiceErrorCode.NOT_FOUND, `no route ${method} ${path}`);
  }

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== o.prefix && !path.startsWith(`${o.prefix}/`)) return false;
    const requestId = req.headers['x-request-id'];
    const fail = (error: unknown): void => {
      writeErrorResponse(res, error, {
        requestId: typeof requestId === 'string' ? requestId : undefined,
        exposeDetails: true,
        now: o.clock.now(),
      });
    };
    if (closed) {
      fail(routeError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'service registry API is closed'));
      return true;
    }
    try {
      if (o.authenticate !== undefined && !o.authenticate(req, res)) return true;
      serve(req, res, path).catch(fail);
    } catch (error) {
      fail(error);
    }
    return true;
  };

  return {
    prefix: o.prefix,
    ttlMs: o.ttlMs,
    handle,
    middleware: (req, res, next) => {
      if (!handle(req, res)) next();
    },
    sweep,
    close: () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) o.clock.clearTimeout(timer);
      for (const serviceId of leases.clear()) registry.deregister(serviceId);
    },
  };
}

function decode(segment: string): string {
  try {
    const value = decodeURIComponent(segment);
    if (value !== '' && !value.includes('/')) return value;
  } catch {
    // falls through to the refusal
  }
  throw routeError(ServiceErrorCode.BAD_REQUEST, `bad path segment '${segment}'`, { field: 'path' });
}
