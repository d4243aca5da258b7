import {
  clockOption,
  durationMs,
  functionOption,
  intAtLeast,
  loggerOption,
  numberAtLeast,
  randomOption,
} from '@clone/internal';
import { type Clock, type Logger, noopLogger, systemClock } from '@clone/service-errors';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { z } from 'zod';
import type { RegistryBackend } from './backend';
import type { HealthCheck } from './health-check';
import type { LoadBalancerFactory } from './load-balancer';

/**
 * The options of a `ServiceRegistry`, parsed once at construction: a bad value throws
 * BAD_REQUEST naming the field. Every duration is bounded by what a timer holds.
 * @internal The schema; its input type `ServiceRegistryOptions` is public.
 */
export const registryOptionsSchema = z.strictObject({
  /** Where instances live. Default: a private `InMemoryBackend`. */
  backend: z
    .custom<RegistryBackend>((v) => typeof (v as RegistryBackend | null)?.connect === 'function', {
      error: 'must be a RegistryBackend (an object with connect())',
    })
    .optional(),
  /** Time between two checks of one instance. Default 30 s. */
  healthCheckIntervalMs: durationMs().default(30_000),
  /** How long one check may take before it counts as failed. Default 5 s. */
  healthCheckTimeoutMs: durationMs().default(5_000),
  /** Each interval is stretched or shrunk at random by up to this fraction. Default 0.1. */
  healthCheckJitter: numberAtLeast(0, 1).default(0.1),
  /** Consecutive failed checks that take a healthy instance out of rotation. Default 2. */
  unhealthyThreshold: intAtLeast(1).default(2),
  /** Consecutive passed checks that bring an unhealthy instance back. Default 2. */
  healthyThreshold: intAtLeast(1).default(2),
  /** Replaces the standard gRPC/HTTP checks, e.g. with a TCP connect. */
  healthCheck: functionOption<HealthCheck>().optional(),
  /** Credentials of the standard gRPC health check. Default: plaintext. */
  grpcCredentials: z.custom<ChannelCredentials>((v) => typeof v === 'object' && v !== null).optional(),
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
  /** First delay before a failed backend write is retried; doubles up to `backendRetryMaxMs`. */
  backendRetryMinMs: durationMs().default(100),
  backendRetryMaxMs: durationMs().default(10_000),
  /** Uniform numbers in [0, 1) for jitter and the built-in balancers. Default `Math.random`. */
  random: randomOption().default(() => Math.random),
  logger: loggerOption<Logger>().default(noopLogger),
  clock: clockOption<Clock>().default(systemClock),
});

/** Options of a {@link ServiceRegistry}. */
export type ServiceRegistryOptions = z.input<typeof registryOptionsSchema>;

/** The options as parsed, defaults filled in. */
export type ParsedRegistryOptions = z.output<typeof registryOptionsSchema>;
