import { formatEndpoint } from '@clone/internal';
import type { ServiceInstance } from '@clone/service-discovery';
import { Pool } from 'undici';

/**
 * Where an instance stands in the gateway's rotation: `healthy` takes traffic, `ejected` was
 * taken out by passive outlier detection (failures seen on live traffic), `unhealthy` by the
 * active health check.
 */
export type UpstreamState = 'healthy' | 'ejected' | 'unhealthy';

/** What an upstream pool is built with. @internal */
export interface UpstreamPoolOptions {
  connections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/**
 * One instance of a service as the gateway sees it: its keep-alive pool, the failures counted
 * against it, and its way back into rotation. Times are the gateway clock's ms. @internal
 */
export class Upstream {
  readonly instance: ServiceInstance;
  readonly origin: string;
  readonly pool: Pool;
  state: UpstreamState = 'healthy';
  /** Consecutive failures on live traffic (5xx or connection errors); reset by a success. */
  consecutiveFailures = 0;
  /** Consecutive failed active checks; reset by a passed one. */
  failedChecks = 0;
  /** How often it was ejected: each ejection lasts longer, as Envoy's do. */
  ejections = 0;
  ejectedUntil = 0;
  /** When it last came back into rotation: its share ramps up from there (slow start). */
  returnedAt = Number.NEGATIVE_INFINITY;
  /** Smooth weighted round-robin credit. */
  current = 0;
  inFlight = 0;

  constructor(instance: ServiceInstance, pool: UpstreamPoolOptions) {
    this.instance = instance;
    this.origin = `http://${formatEndpoint(instance)}`;
    this.pool = new Pool(this.origin, {
      connections: pool.connections,
      headersTimeout: pool.headersTimeoutMs,
      bodyTimeout: pool.bodyTimeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  /**
   * Its weight now: the registered weight, scaled from 10% to 100% over `slowStartMs` after it
   * came back, so a cold instance is not handed a full share of traffic at once.
   */
  weight(now: number, slowStartMs: number): number {
    const since = now - this.returnedAt;
    if (slowStartMs <= 0 || since >= slowStartMs) return this.instance.weight;
    return this.instance.weight * (0.1 + (0.9 * Math.max(0, since)) / slowStartMs);
  }

  /** Closes the pool: in-flight requests finish, idle sockets go. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Plain facts for the status endpoints. */
  toJSON(): Record<string, unknown> {
    return {
      serviceId: this.instance.serviceId,
      host: this.instance.host,
      port: this.instance.port,
      state: this.state,
      consecutiveFailures: this.consecutiveFailures,
      ejections: this.ejections,
      inFlight: this.inFlight,
    };
  }
}
