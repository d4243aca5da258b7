import { parseEndpointString } from '@clone/internal';
import { defaultHealthCheck, parseInstance } from '@clone/service-discovery';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type * as grpc from '@grpc/grpc-js';
import type { HealthCheckOutcome, HealthIndicator } from './health-indicator';

/** Options every built-in check takes. */
export interface CheckOptions {
  /** Whether a failure makes the service not ready (default true). */
  critical?: boolean;
  /** Per-check timeout in ms (default: the monitor's). */
  timeoutMs?: number;
}

/** The part of an etcd3 client the etcd check uses (`new Etcd3(...)` fits). */
export interface EtcdStatusClient {
  maintenance: { status(): Promise<{ header?: unknown; version?: string; leader?: unknown }> };
}

function badRequest(message: string, metadata: Record<string, unknown>): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, undefined, { metadata });
}

function indicator(name: string, options: CheckOptions, check: HealthIndicator['check']): HealthIndicator {
  return { name, kind: 'readiness', ...options, check };
}

/**
 * The service-discovery health check (the one HTTP and gRPC probe of every package), run against
 * a fixed address instead of a registered instance.
 */
const probe = defaultHealthCheck();

/**
 * Ready-made checks of the dependencies services usually have. Each is a readiness check
 * (liveness never depends on another service) and critical unless `critical: false`.
 */
export const HealthChecks = {
  /** A database: up when `ping` resolves to anything but `false`. */
  database(
    name: string,
    ping: () => Promise<unknown> | unknown,
    options: CheckOptions = {},
  ): HealthIndicator {
    return indicator(name, options, async () => (await ping()) !== false);
  },

  /** A message broker: up while `isConnected()` says so (e.g. the event bus's `isConnected`). */
  rabbitmq(
    name: string,
    isConnected: () => Promise<boolean> | boolean,
    options: CheckOptions = {},
  ): HealthIndicator {
    return indicator(name, options, () => isConnected());
  },

  /**
   * Another HTTP service: `GET` on `url`, up on any 2xx. A bare base URL
   * (`http://access-service:3002`) is probed at `/health`, the endpoint every service exposes.
   */
  httpService(name: string, url: string, options: CheckOptions = {}): HealthIndicator {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `HealthChecks.httpService: url must be an absolute http(s) URL, got '${url}'`,
        undefined,
        { metadata: { name, url }, cause },
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw badRequest(`HealthChecks.httpService: url must be http or https, got '${url}'`, { name, url });
    }
    if (parsed.pathname === '/') parsed.pathname = '/health';
    const instance = parseInstance(
      {
        serviceId: name,
        serviceName: name,
        host: parsed.hostname,
        port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
        protocol: 'http',
        healthCheckUrl: parsed.href,
      },
      'HealthChecks.httpService',
    );
    return indicator(name, options, (signal) => probe(instance, signal));
  },

  /**
   * A gRPC server: `grpc.health.v1.Health/Check` at `target` (`host:port`), for `service`
   * (default `''`, the whole server). Only SERVING is up.
   */
  grpcService(
    name: string,
    target: string,
    options: CheckOptions & { service?: string; credentials?: grpc.ChannelCredentials } = {},
  ): HealthIndicator {
    const endpoint = parseEndpointString(typeof target === 'string' ? target : '');
    if (endpoint === undefined || 'error' in endpoint) {
      const why = endpoint?.error ?? `must be 'host:port', got ${JSON.stringify(target)}`;
      throw badRequest(`HealthChecks.grpcService: target ${why}`, { name, target });
    }
    const instance = parseInstance(
      {
        serviceId: name,
        serviceName: name,
        ...endpoint,
        protocol: 'grpc',
        strictHealthCheck: true,
        healthCheckService: options.service ?? '',
      },
      'HealthChecks.grpcService',
    );
    const check = options.credentials ? defaultHealthCheck({ grpcCredentials: options.credentials }) : probe;
    const { service: _service, credentials: _credentials, ...rest } = options;
    return indicator(name, rest, (signal) => check(instance, signal));
  },

  /** etcd: up when the cluster answers a status request (through your etcd3 client). */
  etcd(name: string, client: EtcdStatusClient, options: CheckOptions = {}): HealthIndicator {
    return indicator(name, options, async (): Promise<HealthCheckOutcome> => {
      const status = await client.maintenance.status();
      return { up: true, details: status.version === undefined ? {} : { version: status.version } };
    });
  },
};
