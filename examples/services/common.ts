import { createServiceServer, type ServiceImplementations, type ServiceKind } from '@clone/grpc-proto';
import type { ServiceAuthManager } from '@clone/service-auth';
import type { ServiceRegistry } from '@clone/service-discovery';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';

/** The secret the demo's services and orchestrator share when `JWT_SECRET` is not set (≥ 32 bytes). */
export const DEMO_JWT_SECRET = 'clone-demo-secret-not-for-production-0123456789';

export const VERSION = '0.1.0-example';

/** Options every example service takes. */
export interface ExampleServiceOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Where the service registers itself (`<kind>-service-1` under the name `<kind>`); none: not registered. */
  registry?: ServiceRegistry | undefined;
  /** Verifies callers' tokens: a `ServiceAuthManager`, or the shared secret. Default `JWT_SECRET`, else the demo secret. */
  auth?: ServiceAuthManager | { jwtSecret: string } | undefined;
  /** Default `<kind>-service-1`. */
  serviceId?: string | undefined;
  /** Serve mutual TLS: the server's certificate and key, and the CA its callers' certificates must chain to. */
  tls?: ServiceTls | undefined;
  /** Server interceptors run after the auth interceptor (e.g. `tracingServerInterceptor()`). */
  interceptors?: readonly grpc.ServerInterceptor[] | undefined;
}

/** PEM contents for a mutual-TLS server. */
export interface ServiceTls {
  /** The CA that signed the callers' certificates: a caller without one is refused. */
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** A running example service. */
export interface RunningService {
  readonly kind: ServiceKind;
  readonly serviceId: string;
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  /** Deregisters the instance, then shuts the server down gracefully (in-flight calls finish). Idempotent. */
  shutdown(): Promise<void>;
  /**
   * Simulates a crash: the server stops at once (in-flight calls are cancelled) and the instance
   * stays registered, as when a process dies; health checks then find it unhealthy.
   */
  crash(): void;
}

/** A caller-side error (INVALID_ARGUMENT on the wire): never retried, never counted by a breaker. */
export const badRequest = (message: string, service: string): ServiceError =>
  new ServiceError(ServiceErrorCode.BAD_REQUEST, message, service, { retryable: false });

/** The `HealthCheck` rpc of every example service. */
export const healthCheck =
  (service: ServiceKind) =>
  (
    _call: unknown,
    callback: (
      error: null,
      value: { status: 'SERVING'; service: string; version: string; timestampMs: number },
    ) => void,
  ): void =>
    callback(null, { status: 'SERVING', service, version: VERSION, timestampMs: Date.now() });

/**
 * Serves one service with `createServiceServer` (auth interceptor, per-method permissions,
 * `grpc.health.v1`) on `host:port` and registers it in `options.registry`.
 */
export async function startService<K extends ServiceKind>(
  kind: K,
  handlers: NonNullable<ServiceImplementations[K]>,
  requirePermissions: Record<string, readonly string[]>,
  options: ExampleServiceOptions,
): Promise<RunningService> {
  const host = options.host ?? '127.0.0.1';
  const serviceId = options.serviceId ?? `${kind}-service-1`;
  const services: ServiceImplementations = { [kind]: handlers };
  const server = createServiceServer({
    // Tokens must name this service as their audience: one sent to another service is refused here.
    serviceName: kind,
    auth: options.auth ?? { jwtSecret: process.env.JWT_SECRET ?? DEMO_JWT_SECRET },
    services,
    requirePermissions,
    // The owner (the demo, or run.ts) decides what a signal does.
    handleSignals: false,
    shutdownTimeoutMs: 2_000,
    ...(options.interceptors === undefined ? {} : { interceptors: options.interceptors }),
    ...(options.tls === undefined
      ? {}
      : {
          credentials: grpc.ServerCredentials.createSsl(
            options.tls.ca,
            [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
            true,
          ),
        }),
  });
  const port = await server.listen(options.port ?? 0, host);
  const registry = options.registry;
  registry?.register({
    serviceId,
    serviceName: kind,
    host,
    port,
    protocol: 'grpc',
    version: VERSION,
    metadata: { example: true },
  });
  let stopping: Promise<void> | undefined;
  return {
    kind,
    serviceId,
    host,
    port,
    address: `${host}:${port}`,
    shutdown() {
      stopping ??= (async () => {
        registry?.deregister(serviceId);
        await server.shutdown();
      })();
      return stopping;
    },
    crash() {
      server.server.forceShutdown();
    },
  };
}
