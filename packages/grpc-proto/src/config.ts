import { basename } from 'node:path';
import {
  clockOption,
  durationMs,
  durationSeconds,
  endpointSchema,
  functionOption,
  loggerOption,
  parseEndpointString,
  safeRecord,
} from '@clone/internal';
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
/**
 * Breaker options: checked in full by CircuitBreaker, which names the bad field, except
 * `timeout`, which the manager applies itself (as each attempt's deadline) and checks here.
 */
const breakerOptions = z
  .looseObject({ timeout: durationMs().optional() })
  .pipe(z.custom<CircuitBreakerOptions>(isObject)) as unknown as z.ZodType<
  CircuitBreakerOptions,
  CircuitBreakerOptions
>;
// Checked in full by RetryPolicy, which names the bad field.
const retryOptions = z.custom<RetryOptions>(isObject, { error: 'must be RetryPolicy options' });
/** `{ host, port }`, `'host:port'` (port 1–65535, the one endpoint schema), a target URI or a service name. */
const endpoint = z.union([
  endpointSchema,
  z
    .string({ error: "must be { host, port } or 'host:port'" })
    .min(1, { error: "must be { host, port } or 'host:port'" })
    .superRefine((text, ctx) => {
      const parsed = parseEndpointString(text);
      if (parsed !== undefined && 'error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
    }),
]) as z.ZodType<ClientTarget, ClientTarget>;

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
  tokenExpirySeconds: durationSeconds().default(3600),
  /** Interval of the registry's health checks, in ms. Default 30 000. */
  healthCheckIntervalMs: durationMs().default(30_000),
  /** Resolve bare service names through the registry (`clone:` resolver). Default true. */
  enableServiceDiscovery: z.boolean().default(true),
  /** Breaker options for every service (defaults: {@link DEFAULT_CIRCUIT_BREAKER}). */
  circuitBreaker: breakerOptions.optional(),
  /** Retry options for every service (defaults: {@link DEFAULT_RETRY}). */
  retry: retryOptions.optional(),
  /** Per-service breaker, retry and endpoint, by service name (`asr`, …). */
  services: safeRecord(serviceSettings).optional(),
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
  /**
   * Makes correlation ids for calls made outside any call context, and for the clients' calls
   * without one. Default a random UUID.
   */
  createCorrelationId: functionOption<() => string>().optional(),
  logger: loggerOption<Logger>().optional(),
  clock: clockOption<Clock>().optional(),
});

/** The schema of the per-service settings (`services.<name>`, `configureService`). */
export const serviceSettingsSchema = serviceSettings;

/** Configuration of a `ServiceCommunicationManager` (the design document's six fields plus optional ones). */
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
  // SERVICE_NAME is not among the design document's variables, so it is optional: the entry script's name
  // (`orchestrator` for `node orchestrator.js`) is a readable default for the tokens' serviceName.
  const serviceName = overrides.serviceName ?? (env.SERVICE_NAME?.trim() || defaultServiceName());
  const jwtSecret = overrides.jwtSecret ?? env.JWT_SECRET;
  if (jwtSecret === undefined || jwtSecret === '')
    throw bad('JWT_SECRET', 'must be set to the shared service secret');
  if (overrides.jwtSecret === undefined && Buffer.byteLength(jwtSecret) < 32)
    throw bad('JWT_SECRET', `must be at least 32 bytes for HS256, got ${Buffer.byteLength(jwtSecret)}`);
  const healthCheckIntervalMs = intVar(env, 'HEALTH_CHECK_INTERVAL');
  const { services: overrideServices, circuitBreaker, retry, ...rest } = overrides;
  // Null prototype: a '__proto__' service name stays a key, for the schema to refuse by name.
  const merged: Record<string, z.input<typeof serviceSettings>> = Object.assign(
    Object.create(null),
    services,
  );
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
