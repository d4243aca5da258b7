import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

/** An instance of a service as discovery returns it (`ServiceRegistry`'s fits). */
export interface ServiceInstance {
  host: string;
  port: number;
  protocol?: string | undefined;
  metadata?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Where a client finds its callee's instances: `ServiceRegistry` of `@clone/service-discovery`,
 * or the HTTP discovery client, fits. `release`, when there, is called once the request ends
 * (the least-outstanding balancer counts requests in flight).
 */
export interface ServiceDiscovery {
  getServiceInstance(serviceName: string): ServiceInstance | Promise<ServiceInstance>;
  release?(instance: ServiceInstance): void;
}

/** Where one attempt goes: the origin (`http://host:port`), a path prefix and the instance to release. */
export interface Target {
  origin: string;
  prefix: string;
  instance: ServiceInstance | undefined;
}

function badRequest(message: string, field: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, undefined, {
    retryable: false,
    metadata: { field },
  });
}

/**
 * A `baseUrl` as a target: http or https, no credentials, query or fragment; a path becomes
 * the prefix of every request's. Throws BAD_REQUEST naming `baseUrl`.
 */
export function parseBaseUrl(value: string, owner: string): Target {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(
      `${owner}: baseUrl must be an absolute http(s) URL, got ${JSON.stringify(value)}`,
      'baseUrl',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest(`${owner}: baseUrl must use http or https, got ${JSON.stringify(value)}`, 'baseUrl');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw badRequest(
      `${owner}: baseUrl must not hold credentials, a query or a fragment, got ${JSON.stringify(value)}`,
      'baseUrl',
    );
  }
  return { origin: url.origin, prefix: url.pathname.replace(/\/+$/, ''), instance: undefined };
}

/** The origin of a discovered instance (`https` when its metadata says `scheme: 'https'`). */
export function instanceOrigin(instance: ServiceInstance, serviceName: string): string {
  const { host, port } = instance;
  if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ServiceError(
      ServiceErrorCode.SERVICE_UNAVAILABLE,
      `Discovery returned an unusable instance of '${serviceName}' (host ${JSON.stringify(host)}, port ${JSON.stringify(port)})`,
      serviceName,
      { retryable: false },
    );
  }
  const scheme = instance.metadata?.scheme === 'https' ? 'https' : 'http';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

// Printable ASCII without spaces: anything else is not a path a caller meant to send.
const PATH = /^\/[\x21-\x7e]*$/;

/**
 * Checks a request path: it must start with `/` and hold printable ASCII without spaces (encode
 * the rest), so a full URL or a path built from raw input fails before anything is sent.
 */
export function checkPath(path: unknown, service: string): string {
  if (typeof path !== 'string' || !PATH.test(path) || path.startsWith('//')) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      `Request path to ${service} must start with '/' and hold printable ASCII without spaces (encode the rest), got ${JSON.stringify(path)}`,
      service,
      { retryable: false, metadata: { field: 'path' } },
    );
  }
  return path;
}
