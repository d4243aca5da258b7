import { formatEndpoint, nonEmptyString, numberAtLeast, portSchema } from '@clone/internal';
import { parseOptions } from '@clone/service-errors';
import { z } from 'zod';
import {
  assertMetadataKeys,
  parseInstance,
  type ServiceInstance,
  type ServiceRegistration,
} from './instance';

const registrationSchema = z.strictObject({
  /** The logical service (`auth-service`): what callers discover by. */
  name: nonEmptyString(),
  /** Unique per instance. Default: `<name>-<host>:<port>`, stable across re-registrations. */
  serviceId: nonEmptyString().optional(),
  version: z.string().optional(),
  /**
   * Where the instance is reached. Default: the address the registration came from, as the
   * registry sees it (set it when a proxy or NAT is in between).
   */
  host: nonEmptyString().optional(),
  port: portSchema,
  /** Default `'http'`. */
  protocol: z.enum(['grpc', 'http'], { error: "must be 'grpc' or 'http'" }).default('http'),
  /** A path (`/health`, the default) or an absolute URL. */
  healthCheckUrl: z.string().optional(),
  /** JSON-friendly data about the instance (capabilities, zone, …). */
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** Relative share of traffic for the weighted balancer. Default 1. */
  weight: numberAtLeast(0)
    .refine((w) => w > 0, { error: 'must be a positive number' })
    .optional(),
});

/**
 * A registration over HTTP, in the design document's shape: `name`, `version`, `port`,
 * `healthCheckUrl`, `metadata`; `host`, `serviceId`, `protocol` and `weight` are optional.
 */
export type HttpServiceRegistration = z.input<typeof registrationSchema>;

/**
 * Checks a registration and turns it into the registry's own shape. The host is the
 * registration's, else `fallbackHost`; a bad field throws BAD_REQUEST naming it (with
 * `context` in the message), the same checks on the client (before anything is sent) and on
 * the registry.
 */
export function parseHttpRegistration(
  input: unknown,
  fallbackHost: string,
  context: string,
): ServiceInstance {
  assertMetadataKeys(input, context);
  const r = parseOptions(registrationSchema, input, context);
  const host = r.host ?? fallbackHost;
  const registration: ServiceRegistration = {
    serviceId: r.serviceId ?? `${r.name}-${formatEndpoint({ host, port: r.port })}`,
    serviceName: r.name,
    host,
    port: r.port,
    protocol: r.protocol,
    ...(r.version === undefined ? {} : { version: r.version }),
    ...(r.healthCheckUrl === undefined ? {} : { healthCheckUrl: r.healthCheckUrl }),
    ...(r.metadata === undefined ? {} : { metadata: r.metadata }),
    ...(r.weight === undefined ? {} : { weight: r.weight }),
  };
  return parseInstance(registration, context);
}
