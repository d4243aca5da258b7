import {
  clockOption,
  durationMs,
  functionOption,
  intAtLeast,
  loggerOption,
  nonEmptyString,
  randomOption,
} from '@clone/internal';
import { type Clock, type Logger, noopLogger, systemClock } from '@clone/service-errors';
import { z } from 'zod';
import type { LoadBalancerFactory } from './load-balancer';

const URL_TEXT = "must be an http(s) URL like 'http://api-gateway:3000'";

/**
 * The options of `createServiceDiscoveryClient`, parsed once: a bad value throws BAD_REQUEST
 * naming the field.
 * @internal The schema; its input type `ServiceDiscoveryClientOptions` is public.
 */
export const discoveryClientOptionsSchema = z.strictObject({
  /** Where the registry HTTP API is served (the gateway), e.g. `http://api-gateway:3000`. */
  registryUrl: z.string({ error: URL_TEXT }).refine(
    (text) => {
      try {
        const url = new URL(text);
        return (
          (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === ''
        );
      } catch {
        return false;
      }
    },
    { error: URL_TEXT },
  ),
  /** The API's mount path on that server. Default `/registry`. */
  prefix: z
    .string()
    .regex(/^(\/[^/?#\s]+)+$/, { error: "must be a path like '/registry' (no trailing slash)" })
    .default('/registry'),
  /**
   * The host other services reach this one at, for `register()` calls that give none.
   * Default: the address the registry sees the registration come from.
   */
  host: nonEmptyString().optional(),
  /** How long one registry request may take. Default 5 s. */
  requestTimeoutMs: durationMs().default(5_000),
  /**
   * How long a service's instance list is used as is; after that it is still used while a
   * refresh runs in the background. Default 5 s.
   */
  cacheTtlMs: durationMs(0).default(5_000),
  /** Time between heartbeats. Default: a third of the lease the registry grants. */
  heartbeatIntervalMs: durationMs().optional(),
  /** First delay before probing an unreachable registry again; doubles up to the max. */
  reconnectMinMs: durationMs().default(250),
  reconnectMaxMs: durationMs().default(10_000),
  /** A built-in balancer by name, or a factory making one per service name. */
  loadBalancer: z
    .union(
      [
        z.enum(['round-robin', 'random', 'weighted', 'least-outstanding']),
        functionOption<LoadBalancerFactory>(),
      ],
      { error: "must be 'round-robin', 'random', 'weighted', 'least-outstanding' or a factory function" },
    )
    .default('round-robin'),
  /**
   * Extra headers for every registry request, read per request: e.g.
   * `() => serviceAuth.createAuthHeader('api-gateway')` when the API is protected.
   */
  headers: functionOption<() => Record<string, string>>().optional(),
  /** Keep-alive connections to the registry. Default 4. */
  connections: intAtLeast(1).default(4),
  /** Uniform numbers in [0, 1) for reconnect jitter and the balancers. Default `Math.random`. */
  random: randomOption().default(() => Math.random),
  clock: clockOption<Clock>().default(systemClock),
  logger: loggerOption<Logger>().default(noopLogger),
});

/** Options of `createServiceDiscoveryClient`. */
export type ServiceDiscoveryClientOptions = z.input<typeof discoveryClientOptionsSchema>;

/** The options as parsed, defaults filled in. */
export type ParsedDiscoveryClientOptions = z.output<typeof discoveryClientOptionsSchema>;
