import {
  clockOption,
  durationMs,
  functionOption,
  loggerOption,
  nonEmptyString,
  safeRecord,
} from '@clone/internal';
import { ServiceAuthManager, type ServiceAuthOptions } from '@clone/service-auth';
import type { Clock, Logger } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import type { ServiceKind, ServiceTypes } from './protos';

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

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema of {@link ServiceServerOptions}: parsed once, a bad value is a BAD_REQUEST naming it. */
export const serviceServerOptionsSchema = z.strictObject({
  serviceName: nonEmptyString()
    .refine((name) => name.trim() !== '', { error: 'must be a non-empty string' })
    .optional(),
  auth: z.union([
    z.literal(false),
    z.custom<ServiceAuthManager>((v) => v instanceof ServiceAuthManager),
    z.custom<ServiceAuthOptions>(isObject, {
      error: 'must be a ServiceAuthManager, its options ({ jwtSecret }) or false',
    }),
  ]),
  services: z.custom<ServiceImplementations>(isObject, { error: 'must be an object of handlers by service' }),
  customServices: z
    .array(
      z.custom<CustomService>(
        (v) =>
          isObject((v as CustomService | null)?.definition) && isObject((v as CustomService).implementation),
        { error: 'must be { definition, implementation }' },
      ),
    )
    .default([]),
  requirePermissions: safeRecord(z.array(nonEmptyString()).readonly()).optional(),
  publicMethods: z.array(nonEmptyString()).readonly().optional(),
  interceptors: z.array(functionOption<grpc.ServerInterceptor>()).readonly().default([]),
  serverOptions: z.custom<Omit<grpc.ServerOptions, 'interceptors'>>(isObject).optional(),
  credentials: z
    .custom<grpc.ServerCredentials>((v) => v instanceof grpc.ServerCredentials, {
      error: 'must be grpc ServerCredentials',
    })
    .optional(),
  shutdownTimeoutMs: durationMs().default(10_000),
  handleSignals: z.boolean().default(true),
  logger: loggerOption<Logger>().optional(),
  clock: clockOption<Clock>().optional(),
  createCorrelationId: functionOption<() => string>().optional(),
});

/** Options of `createServiceServer`. */
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
   * (`/asr.ASRService/Transcribe`) or by `'/asr.ASRService/*'`. Other methods need any valid
   * token. `__proto__`, `constructor` and `prototype` are refused as keys.
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
  /**
   * Graceful shutdown: how long in-flight calls get before they are cancelled. Default 10 000
   * ms; like every duration, at most 2^31−1 (what a timer holds).
   */
  shutdownTimeoutMs?: number | undefined;
  /** Shut down gracefully on SIGTERM, then let the signal end the process. Default true. */
  handleSignals?: boolean | undefined;
  logger?: Logger | undefined;
  /** Time for `HealthCheck` answers and the shutdown timer. Default the system clock. */
  clock?: Clock | undefined;
  /** Makes the correlation id of an inbound call that carries none. Default a random UUID. */
  createCorrelationId?: (() => string) | undefined;
}
