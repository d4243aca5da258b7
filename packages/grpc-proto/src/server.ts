import { DEFAULT_PUBLIC_METHODS, ServiceAuthManager } from '@clone/service-auth';
import { HealthService, type ServingStatus } from '@clone/service-discovery';
import {
  isServiceError,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
} from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { newCorrelationId, readCorrelationId, runInCallContext } from './call-context';
import { registerMethodPolicies } from './method-policy';
import { SERVICE_KINDS, SERVICE_PROTOS, type ServiceKind, serviceDefinition } from './protos';
import { type ServiceServerOptions, serviceServerOptionsSchema } from './server-options';

export type {
  CustomService,
  ServiceHandlers,
  ServiceImplementations,
  ServiceServerOptions,
} from './server-options';

/** A gRPC server built by {@link createServiceServer}. */
export interface ServiceServer {
  readonly server: grpc.Server;
  /** The `grpc.health.v1` statuses: `''` (the server) and each service's full name. */
  readonly health: HealthService;
  /** The bound port (0 before `listen`). */
  readonly port: number;
  /** Binds and starts serving; `port` 0 (default) picks a free one. Resolves with the port. */
  listen(port?: number, host?: string): Promise<number>;
  /**
   * Graceful shutdown: health goes NOT_SERVING, new calls are refused, in-flight calls get
   * `shutdownTimeoutMs` to finish before they are cancelled. Idempotent.
   */
  shutdown(): Promise<void>;
}

/** A handler's failure as the status grpc-js sends: code and details from the ServiceError, pushback as trailer. */
function toServerError(error: unknown): grpc.ServerErrorResponse {
  if (!isServiceError(error) && typeof (error as { code?: unknown } | null)?.code === 'number') {
    // Already a grpc status ({ code, details }): pass it on as the handler meant it.
    return error as grpc.ServerErrorResponse;
  }
  const e = ServiceError.from(error);
  const metadata = new grpc.Metadata();
  if (e.retryAfterMs !== undefined)
    metadata.set('grpc-retry-pushback-ms', String(Math.max(0, Math.round(e.retryAfterMs))));
  return Object.assign(new Error(e.message), { code: e.grpcStatus, details: e.message, metadata });
}

type AnyHandler = (call: any, callback?: grpc.sendUnaryData<unknown>) => unknown;

/**
 * Wraps a handler: it runs with the caller's correlation id and deadline as its call context
 * (calls it makes onward carry the id and end by that deadline), may be async (a returned value answers a unary call; a rejection
 * is sent as a status), and any thrown error is sent as the ServiceError's gRPC status.
 */
function wrapHandler(
  handler: AnyHandler,
  withCallback: boolean,
  createId: (() => string) | undefined,
): AnyHandler {
  return (call: InboundCall, callback?: grpc.sendUnaryData<unknown>) => {
    const correlationId = readCorrelationId(call.metadata) ?? newCorrelationId(createId);
    const given = call.getDeadline();
    const deadline = given instanceof Date ? given.getTime() : given;
    const context = Number.isFinite(deadline) ? { correlationId, deadline } : { correlationId };
    const served = new ServedCall(call, withCallback ? callback : undefined);
    return runInCallContext(context, () => served.run(handler));
  };
}

/** What the handler wrapper uses of a grpc-js server call. */
interface InboundCall {
  metadata: grpc.Metadata;
  getDeadline(): grpc.Deadline;
  emit(event: 'error', e: unknown): void;
}

/**
 * One inbound call of a wrapped handler: its answer is sent once, errors as the ServiceError's
 * status. Methods on a prototype rather than closures made per call (this runs on every call).
 */
class ServedCall {
  #settled = false;
  readonly #call: InboundCall;
  readonly #callback: grpc.sendUnaryData<unknown> | undefined;

  constructor(call: InboundCall, callback: grpc.sendUnaryData<unknown> | undefined) {
    this.#call = call;
    this.#callback = callback;
  }

  run(handler: AnyHandler): void {
    try {
      const result =
        this.#callback === undefined
          ? handler(this.#call)
          : handler(this.#call, (error, value, trailer, flags) => this.#reply(error, value, trailer, flags));
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        (result as PromiseLike<unknown>).then(
          (value) => {
            if (value !== undefined) this.#reply(null, value);
          },
          (error: unknown) => this.#fail(error),
        );
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  #reply(
    error: Parameters<grpc.sendUnaryData<unknown>>[0] | undefined,
    value?: unknown,
    trailer?: grpc.Metadata,
    flags?: number,
  ): void {
    // A streaming call has no callback; a unary one answers once (a later answer is dropped).
    if (this.#settled || this.#callback === undefined) return;
    this.#settled = true;
    this.#callback(
      error === null || error === undefined ? null : toServerError(error),
      value,
      trailer,
      flags,
    );
  }

  #fail(error: unknown): void {
    if (this.#callback !== undefined) this.#reply(error as grpc.ServerErrorResponse);
    else this.#call.emit('error', toServerError(error));
  }
}

function wrapImplementation(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
  createId: (() => string) | undefined,
): grpc.UntypedServiceImplementation {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name] as AnyHandler | undefined;
    if (typeof handler !== 'function') continue;
    wrapped[name] = wrapHandler(handler, !method.responseStream, createId) as grpc.UntypedHandleCall;
  }
  return wrapped;
}

function permissionKey(key: string): string {
  if ((SERVICE_KINDS as readonly string[]).includes(key))
    return `/${SERVICE_PROTOS[key as ServiceKind].fullName}/*`;
  return key;
}

/**
 * A gRPC server for one or more of the five services with what every service needs: the auth
 * interceptor (tokens verified, `requirePermissions` enforced, the caller available through
 * `getServiceIdentity(call)`), the standard `grpc.health.v1` service, correlation ids carried
 * into handlers, errors sent as the ServiceError's status, and a graceful shutdown on SIGTERM.
 *
 * ```ts
 * const server = createServiceServer({
 *   auth: { jwtSecret: process.env.JWT_SECRET! },
 *   services: { asr: { Transcribe: async (call) => ({ transcript: '…' }), StreamTranscribe } },
 *   requirePermissions: { asr: ['asr:read'] },
 * });
 * await server.listen(50051, '0.0.0.0');
 * ```
 */
export function createServiceServer(input: ServiceServerOptions): ServiceServer {
  const options = parseOptions(serviceServerOptionsSchema, input, 'createServiceServer');
  const logger = options.logger ?? noopLogger;
  const clock = options.clock ?? systemClock;
  const createId = options.createCorrelationId;
  const serviceName = options.serviceName;
  const kinds = SERVICE_KINDS.filter((k) => options.services[k] !== undefined);
  const custom = options.customServices;
  if (kinds.length === 0 && custom.length === 0) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      'createServiceServer: services must name at least one service',
      undefined,
      {
        retryable: false,
        metadata: { field: 'services' },
      },
    );
  }
  const statuses: Record<string, ServingStatus> = { '': 'SERVING' };
  for (const kind of kinds) statuses[SERVICE_PROTOS[kind].fullName] = 'SERVING';
  const health = new HealthService(statuses);

  const interceptors: grpc.ServerInterceptor[] = [];
  if (options.auth !== false) {
    const auth =
      options.auth instanceof ServiceAuthManager ? options.auth : new ServiceAuthManager(options.auth);
    const methodPermissions: Record<string, string[]> = {};
    for (const [key, permissions] of Object.entries(options.requirePermissions ?? {}))
      methodPermissions[permissionKey(key)] = [...permissions];
    const publicMethods = options.publicMethods ?? [
      ...DEFAULT_PUBLIC_METHODS,
      ...kinds.map((k) => `/${SERVICE_PROTOS[k].fullName}/HealthCheck`),
    ];
    interceptors.push(
      auth.createServerInterceptor({
        methodPermissions,
        publicMethods: [...publicMethods],
        ...(serviceName === undefined ? {} : { audience: serviceName }),
      }),
    );
  }
  interceptors.push(...options.interceptors);
  const server = new grpc.Server({ ...options.serverOptions, interceptors });
  health.addTo(server);
  for (const kind of kinds) {
    const definition = serviceDefinition(kind);
    const fullName = SERVICE_PROTOS[kind].fullName;
    const handlers = { ...(options.services[kind] as grpc.UntypedServiceImplementation) };
    handlers.HealthCheck ??= ((_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      const status = health.getStatus(fullName) ?? 'UNKNOWN';
      callback(null, {
        status: status === 'SERVING' || status === 'NOT_SERVING' ? status : 'UNKNOWN',
        service: fullName,
        timestampMs: clock.now(),
      });
    }) as grpc.UntypedHandleCall;
    server.addService(definition, wrapImplementation(definition, handlers, createId));
  }
  for (const service of custom) {
    registerMethodPolicies(service.definition);
    server.addService(
      service.definition,
      wrapImplementation(service.definition, service.implementation, createId),
    );
  }

  const shutdownTimeoutMs = options.shutdownTimeoutMs;
  let port = 0;
  let stopping: Promise<void> | undefined;
  const onSigterm = (): void => {
    logger.info('SIGTERM: shutting down gracefully', { port });
    void shutdown().then(() => {
      // Ours was the only handler: let the signal do what it would have done without us.
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  };

  function shutdown(): Promise<void> {
    stopping ??= new Promise<void>((resolve) => {
      process.removeListener('SIGTERM', onSigterm);
      health.setStatus('', 'NOT_SERVING');
      for (const kind of kinds) health.setStatus(SERVICE_PROTOS[kind].fullName, 'NOT_SERVING');
      const force = clock.setTimeout(
        () => {
          logger.warn('graceful shutdown timed out, cancelling in-flight calls', { port, shutdownTimeoutMs });
          server.forceShutdown();
          resolve();
        },
        shutdownTimeoutMs,
        true,
      );
      server.tryShutdown(() => {
        clock.clearTimeout(force);
        resolve();
      });
    });
    return stopping;
  }

  return {
    server,
    health,
    get port() {
      return port;
    },
    listen(requested = 0, host = '0.0.0.0') {
      const address = host.includes(':') ? `[${host}]:${requested}` : `${host}:${requested}`;
      return new Promise<number>((resolve, reject) => {
        server.bindAsync(
          address,
          options.credentials ?? grpc.ServerCredentials.createInsecure(),
          (error, bound) => {
            if (error !== null) {
              reject(ServiceError.from(error));
              return;
            }
            port = bound;
            if (options.handleSignals) process.on('SIGTERM', onSigterm);
            logger.info('gRPC server listening', { address: `${host}:${bound}`, services: kinds });
            resolve(bound);
          },
        );
      });
    },
    shutdown,
  };
}
