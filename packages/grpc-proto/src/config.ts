import { basename } from 'node:path';
import { intAtLeast } from '@clone/internal';
import type { RegistryBackend, ServiceRegistry } from '@clone/service-discovery';
import {
  type CircuitBreakerOptions,
  type Clock,
  circuitBreakerOptionsFromEnv,
  type Env,
  type Logger,
  type RetryOptions,
  retryOptionsFromEnv,
  ServiceError,
  ServiceErrorCode,
} from '@clone/service-errors';
import { z } from 'zod';
import type { ClientFactoryOptions, ClientTarget } from './client-factory';
import { SERVICE_KINDS, type ServiceKind } from './protos';

/** The breaker defaults of the design document's Configuration section. */
export const DEFAULT_CIRCUIT_BREAKER = Object.freeze({
  failureThreshold: 5,
  successThreshold: 2,
  timeout: 30_000,
  resetTimeoutMs: 60_000,
} satisfies CircuitBreakerOptions);

/** The retry defaults of the design document's Configuration section. */
export const DEFAULT_RETRY = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  backoffMultiplier: 2,
} satisfies RetryOptions);

/** The design document's default ports, used by `fromEnv` when only a host is set. */
export const DEFAULT_PORTS: Readonly<Record<ServiceKind, number>> = Object.freeze({
  asr: 50051,
  llm: 50052,
  rag: 50053,
  tts: 50054,
  lipsync: 50055,
});

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
// Checked in full by CircuitBreaker / RetryPolicy / ClientFactory, which name the bad field.
const breakerOptions = z.custom<CircuitBreakerOptions>(isObject, { error: 'must be CircuitBreaker options' });
const retryOptions = z.custom<RetryOptions>(isObject, { error: 'must be RetryPolicy options' });
const endpoint = z.custom<ClientTarget>(
  (v) =>
    (typeof v === 'string' && v !== '') ||
    (isObject(v) &&
      typeof (v as { host?: unknown }).host === 'string' &&
      Number.isInteger((v as { port?: unknown }).port)),
  { error: "must be { host, port } or 'host:port'" },
);

/** Per-service settings: they override the manager-wide ones for that service. */
const serviceSettings = z.strictObject({
  circuitBreaker: breakerOptions.optional(),
  retry: retryOptions.optional(),
  /** Where the service is when it is not looked up through discovery. */
  endpoint: endpoint.optional(),
});

/** The schema of {@link ServiceCommunicationConfig}. */
export const serviceCommunicationConfigSchema = z.strictObject({
  /** This instance, e.g. `websocket-server-1`: the `sub` of the tokens it sends. */
  serviceId: z
    .string({ error: 'must be a non-empty string' })
    .min(1, { error: 'must be a non-empty string' }),
  /** This service, e.g. `websocket-server`. */
  serviceName: z
    .string({ error: 'must be a non-empty string' })
    .min(1, { error: 'must be a non-empty string' }),
  /** The shared HS256 secret (at least 32 bytes) every service signs and verifies with. */
  jwtSecret: z.custom<string | Buffer>(
    (v) => (typeof v === 'string' && v !== '') || (Buffer.isBuffer(v) && v.length > 0),
    {
      error: 'must be a non-empty string (the shared JWT secret)',
    },
  ),
  /** Lifetime of the tokens this service sends. Default 3600. */
  tokenExpirySeconds: intAtLeast(1).default(3600),
  /** Interval of the registry's health checks, in ms. Default 30 000. */
  healthCheckIntervalMs: intAtLeast(1).default(30_000),
  /** Resolve bare service names through the registry (`clone:` resolver). Default true. */
  enableServiceDiscovery: z.boolean().default(true),
  /** Breaker options for every service (defaults: {@link DEFAULT_CIRCUIT_BREAKER}). */
  circuitBreaker: breakerOptions.optional(),
  /** Retry options for every service (defaults: {@link DEFAULT_RETRY}). */
  retry: retryOptions.optional(),
  /** Per-service breaker, retry and endpoint, by service name (`asr`, …). */
  services: z.record(z.string(), serviceSettings).optional(),
  /** Where instances are registered: the in-memory backend (default) or `EtcdBackend`. */
  discoveryBackend: z
    .custom<RegistryBackend>((v) => typeof (v as RegistryBackend | null)?.connect === 'function', {
      error: 'must be a RegistryBackend (an object with connect())',
    })
    .optional(),
  /** A registry you own instead of one made here (then `close()` leaves it running). */
  registry: z
    .custom<ServiceRegistry>((v) => typeof (v as ServiceRegistry | null)?.watch === 'function', {
      error: 'must be a ServiceRegistry',
    })
    .optional(),
  /**
   * Reject `executeServiceCall` at once (SERVICE_UNAVAILABLE) for a registered service with no
   * healthy instance. Default false: the call is made and the breaker judges.
   */
  refuseUnhealthy: z.boolean().default(false),
  /** Channel settings of every client: credentials, default deadline, keepalive, interceptors. */
  client: z.custom<ClientFactoryOptions>(isObject, { error: 'must be ClientFactory options' }).optional(),
  logger: z
    .custom<Logger>((v) => typeof (v as Logger | null)?.warn === 'function', { error: 'must be a Logger' })
    .optional(),
  clock: z
    .custom<Clock>((v) => typeof (v as Clock | null)?.setTimeout === 'function', { error: 'must be a Clock' })
    .optional(),
});

/** Configuration of a `ServiceCommunicationManager` (the seed's six fields plus optional ones). */
export type ServiceCommunicationConfig = z.input<typeof serviceCommunicationConfigSchema>;

/** Parsed configuration, defaults applied. */
export type ParsedServiceCommunicationConfig = z.output<typeof serviceCommunicationConfigSchema>;

function bad(variable: string, message: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, `${variable} ${message}`, undefined, {
    retryable: false,
    metadata: { variable },
  });
}

function defaultServiceName(): string {
  const script = process.argv[1];
  const name = script === undefined ? '' : basename(script).replace(/\.[cm]?[jt]s$/, '');
  return /^[\w.-]+$/.test(name) ? name : 'service';
}

function intVar(env: Env, variable: string): number | undefined {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw bad(variable, `must be a positive integer, got '${raw}'`);
  return value;
}

/**
 * The configuration the design document's environment variables describe: `JWT_SECRET`,
 * `<ASR|LLM|RAG|TTS|LIPSYNC>_SERVICE_HOST` / `_PORT`, `CIRCUIT_BREAKER_*`, `RETRY_*`,
 * `HEALTH_CHECK_INTERVAL`, plus `SERVICE_ID` / `SERVICE_NAME` for this service. `overrides`
 * win over the environment. A bad value throws ServiceError BAD_REQUEST naming the variable.
 */
export function configFromEnv(
  env: Env = process.env,
  overrides: Partial<ServiceCommunicationConfig> = {},
): ServiceCommunicationConfig {
  const services: NonNullable<ServiceCommunicationConfig['services']> = {};
  for (const kind of SERVICE_KINDS) {
    const prefix = `${kind.toUpperCase()}_SERVICE`;
    const host = env[`${prefix}_HOST`]?.trim();
    const port = intVar(env, `${prefix}_PORT`);
    if (port !== undefined && port > 65535)
      throw bad(`${prefix}_PORT`, `must be at most 65535, got '${port}'`);
    if (host !== undefined && host !== '')
      services[kind] = { endpoint: { host, port: port ?? DEFAULT_PORTS[kind] } };
  }
  // SERVICE_NAME is not among the seed's variables, so it is optional: the entry script's name
  // (`orchestrator` for `node orchestrator.js`) is a readable default for the tokens' serviceName.
  const serviceName = overrides.serviceName ?? (env.SERVICE_NAME?.trim() || defaultServiceName());
  const jwtSecret = overrides.jwtSecret ?? env.JWT_SECRET;
  if (jwtSecret === undefined || jwtSecret === '')
    throw bad('JWT_SECRET', 'must be set to the shared service secret');
  if (overrides.jwtSecret === undefined && Buffer.byteLength(jwtSecret) < 32)
    throw bad('JWT_SECRET', `must be at least 32 bytes for HS256, got ${Buffer.byteLength(jwtSecret)}`);
  const healthCheckIntervalMs = intVar(env, 'HEALTH_CHECK_INTERVAL');
  const { services: overrideServices, circuitBreaker, retry, ...rest } = overrides;
  const merged: Record<string, z.input<typeof serviceSettings>> = { ...services };
  for (const [name, settings] of Object.entries(overrideServices ?? {}))
    merged[name] = { ...merged[name], ...settings };
  return {
    ...(healthCheckIntervalMs === undefined ? {} : { healthCheckIntervalMs }),
    ...rest,
    serviceName,
    serviceId: overrides.serviceId ?? (env.SERVICE_ID?.trim() || `${serviceName}-${process.pid}`),
    jwtSecret,
    circuitBreaker: { ...circuitBreakerOptionsFromEnv(env), ...circuitBreaker },
    retry: { ...retryOptionsFromEnv(env), ...retry },
    services: merged,
  };
}
