import { DURATION_TEXT, durationMs, formatValue, isUnsafeKey } from '@clone/internal';
import { DEFAULT_PUBLIC_METHODS, ServiceAuthManager, type ServiceAuthOptions } from '@clone/service-auth';
import { HealthService, type ServingStatus } from '@clone/service-discovery';
import {
  type Clock,
  isServiceError,
  type Logger,
  noopLogger,
  ServiceError,
  ServiceErrorCode,
  systemClock,
} from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { newCorrelationId, readCorrelationId, runInCallContext } from './call-context';
import { registerMethodPolicies } from './method-policy';
import {
  SERVICE_KINDS,
  SERVICE_PROTOS,
  type ServiceKind,
  type ServiceTypes,
  serviceDefinition,
} from './protos';

/** The declared members of a type, without its index signature (grpc-js handler types have one). */
type Declared<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };

/** Handlers of one service; `HealthCheck` may be left out (it then answers from the health service). */
export type ServiceHandlers<K extends ServiceKind> = Omit<
  Declared<ServiceTypes[K]['handlers']>,
  'HealthCheck'
> &
  Partial<Pick<Declared<ServiceTypes[K]['handlers']>, 'HealthCheck'>>;

/** Handlers of the five services, by kind. */
export type ServiceImplementations = { [K in ServiceKind]?: ServiceHandlers<K> };

/** A service of your own: a proto-loader service definition and its handlers. */
export interface CustomService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** Options of {@link createServiceServer}. */
export interface ServiceServerOptions {
  /**
   * This service's name (as callers resolve it, e.g. `asr`): when given, every token must name
   * it as its audience (`aud`), so a token sent to another service cannot be replayed here.
   * The manager's clients put the callee's name there by default.
   */
  serviceName?: string | undefined;
  /**
   * Token checking: a `ServiceAuthManager`, its options (`{ jwtSecret }`), or `false` for a
   * server that accepts unauthenticated calls (tests, a sidecar doing auth).
   */
  auth: ServiceAuthManager | ServiceAuthOptions | false;
  /** The handlers to serve, by service: `{ asr: { Transcribe, StreamTranscribe } }`. */
  services: ServiceImplementations;
  /** More services, with their own definitions. */
  customServices?: readonly CustomService[] | undefined;
  /**
   * Permissions callers need, by service kind (`asr`: every method of it), by full method path
   * (`/asr.ASRService/Transcribe`) or by `'/asr.ASRService/*'`. Other methods need any valid token.
   */
  requirePermissions?: Readonly<Record<string, readonly string[]>> | undefined;
  /**
   * Methods open without a token. Default: `grpc.health.v1.Health` and each service's
   * `HealthCheck`, so registries and load balancers can probe.
   */
  publicMethods?: readonly string[] | undefined;
  /** Server interceptors run after the auth interceptor. */
  interceptors?: readonly grpc.ServerInterceptor[] | undefined;
  /** grpc-js server options (message sizes, keepalive enforcement, …). */
  serverOptions?: Omit<grpc.ServerOptions, 'interceptors'> | undefined;
  /** Default: plaintext. */
  credentials?: grpc.ServerCredentials | undefined;
  /** Graceful shutdown: how long in-flight calls get before they are cancelled. Default 10 000 ms. */
  shutdownTimeoutMs?: number | undefined;
  /** Shut down gracefully on SIGTERM, then let the signal end the process. Default true. */
  handleSignals?: boolean | undefined;
  logger?: Logger | undefined;
  /** Time for `HealthCheck` answers and the shutdown timer. Default the system clock. */
  clock?: Clock | undefined;
  /** Makes the correlation id of an inbound call that carries none. Default a random UUID. */
  createCorrelationId?: (() => string) | undefined;
}

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
  return (
    call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline; emit(event: 'error', e: unknown): void },
    callback?: grpc.sendUnaryData<unknown>,
  ) => {
    const correlationId = readCorrelationId(call.metadata) ?? newCorrelationId(createId);
    const given = call.getDeadline();
    const deadline = given instanceof Date ? given.getTime() : given;
    const context = Number.isFinite(deadline) ? { correlationId, deadline } : { correlationId };
    return runInCallContext(context, () => {
      let settled = false;
      const done: grpc.sendUnaryData<unknown> = (error, value, trailer, flags) => {
        if (settled) return;
        settled = true;
        callback!(error === null || error === undefined ? null : toServerError(error), value, trailer, flags);
      };
      const fail = (error: unknown): void => {
        if (withCallback) done(error as grpc.ServerErrorResponse);
        else call.emit('error', toServerError(error));
      };
      try {
        const result = handler(call, withCallback ? done : undefined);
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          (result as PromiseLike<unknown>).then((value) => {
            if (withCallback && !settled && value !== undefined) done(null, value);
          }, fail);
        }
      } catch (error) {
        fail(error);
      }
    });
  };
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
export function createServiceServer(options: ServiceServerOptions): ServiceServer {
  const logger = options.logger ?? noopLogger;
  const clock = options.clock ?? systemClock;
  const createId = options.createCorrelationId;
  const serviceName = options.serviceName;
  if (serviceName !== undefined && (typeof serviceName !== 'string' || serviceName.trim() === '')) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      `createServiceServer: serviceName must be a non-empty string, got ${JSON.stringify(serviceName)}`,
      undefined,
      { retryable: false, metadata: { field: 'serviceName' } },
    );
  }
  const kinds = SERVICE_KINDS.filter((k) => options.services[k] !== undefined);
  const custom = options.customServices ?? [];
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
    for (const [key, permissions] of Object.entries(options.requirePermissions ?? {})) {
      // A copy into a plain object would drop '__proto__' without a word: refuse it by name.
      if (isUnsafeKey(key)) {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          `createServiceServer: requirePermissions key ${JSON.stringify(key)} is a reserved name`,
          undefined,
          { retryable: false, metadata: { field: 'requirePermissions' } },
        );
      }
      methodPermissions[permissionKey(key)] = [...permissions];
    }
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
  interceptors.push(...(options.interceptors ?? []));
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

  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  // A longer delay than a timer holds would fire at once and cut every call short.
  if (!durationMs().safeParse(shutdownTimeoutMs).success) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      `createServiceServer: shutdownTimeoutMs ${DURATION_TEXT(1)}, got ${formatValue(shutdownTimeoutMs)}`,
      undefined,
      { retryable: false, metadata: { field: 'shutdownTimeoutMs' } },
    );
  }
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
            if (options.handleSignals !== false) process.on('SIGTERM', onSigterm);
            logger.info('gRPC server listening', { address: `${host}:${bound}`, services: kinds });
            resolve(bound);
          },
        );
      });
    },
    shutdown,
  };
}
