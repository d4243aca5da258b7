import { endpointSchema, nonEmptyString, numberAtLeast, unsafeKeyReason } from '@clone/internal';
import { parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { z } from 'zod';

/** How an instance is spoken to, and so how it is health-checked. */
export type ServiceProtocol = 'grpc' | 'http';

const registrationSchema = z.strictObject({
  /** Unique per instance across every process sharing a backend, e.g. `asr-service-1`. */
  serviceId: nonEmptyString(),
  /** The logical service, e.g. `asr`; what callers discover by. */
  serviceName: nonEmptyString(),
  /** Where it listens: the one endpoint shape (non-empty host, port 1–65535) of every package. */
  ...endpointSchema.shape,
  protocol: z.enum(['grpc', 'http'], { error: "must be 'grpc' or 'http'" }),
  /** HTTP instances: a path (`/health`, the default) or an absolute URL. Ignored for gRPC. */
  healthCheckUrl: z.string().optional(),
  version: z.string().optional(),
  /** JSON-friendly: it travels through the backend as JSON. */
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** Relative share of traffic for the weighted balancer. Default 1. */
  weight: numberAtLeast(0)
    .refine((w) => w > 0, { error: 'must be a positive number' })
    .default(1),
  /**
   * gRPC instances: count UNIMPLEMENTED from `grpc.health.v1.Health/Check` as not serving.
   * Off by default, since many servers only have their own health rpc.
   */
  strictHealthCheck: z.boolean().optional(),
  /** gRPC instances: the `service` asked about in the health check; default `''` (the server). */
  healthCheckService: z.string().optional(),
});

/** What `register()` accepts. */
export type ServiceRegistration = z.input<typeof registrationSchema>;

/** A registered instance, as validated and normalised by the registry. Frozen. */
export type ServiceInstance = Readonly<z.output<typeof registrationSchema>>;

/**
 * Validates a registration. A bad field throws ServiceError BAD_REQUEST naming it, e.g.
 * `ServiceRegistry.register: port must be an integer between 1 and 65535, got 70000`.
 */
export function parseInstance(input: unknown, context = 'ServiceRegistry.register'): ServiceInstance {
  assertMetadataKeys(input, context);
  const instance = parseOptions(registrationSchema, input, context);
  if (instance.metadata !== undefined) Object.freeze(instance.metadata);
  return Object.freeze(instance);
}

/**
 * A record parsed into a plain object silently loses an own `__proto__` key (JSON.parse makes
 * one), so such keys are refused by name before parsing instead of vanishing from the metadata.
 */
export function assertMetadataKeys(input: unknown, context: string): void {
  const metadata = (input as { metadata?: unknown } | null | undefined)?.metadata;
  if (typeof metadata !== 'object' || metadata === null) return;
  for (const key of Object.keys(metadata)) {
    const reason = unsafeKeyReason(key);
    if (reason === undefined) continue;
    throw new ServiceError(ServiceErrorCode.BAD_REQUEST, `${context}: metadata key ${reason}`, undefined, {
      retryable: false,
      metadata: { field: `metadata.${key}` },
    });
  }
}

/** Whether two instances are the same registration (field by field, metadata as JSON). */
export function sameInstance(a: ServiceInstance, b: ServiceInstance): boolean {
  return (
    sameAddress(a, b) &&
    a.serviceName === b.serviceName &&
    a.healthCheckUrl === b.healthCheckUrl &&
    a.version === b.version &&
    a.weight === b.weight &&
    a.strictHealthCheck === b.strictHealthCheck &&
    a.healthCheckService === b.healthCheckService &&
    JSON.stringify(a.metadata) === JSON.stringify(b.metadata)
  );
}

/** Whether two instances are reached at the same place the same way. */
export function sameAddress(a: ServiceInstance, b: ServiceInstance): boolean {
  return a.host === b.host && a.port === b.port && a.protocol === b.protocol;
}
