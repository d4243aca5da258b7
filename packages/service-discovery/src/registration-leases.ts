import type { Clock } from '@clone/service-errors';
import type { ServiceInstance } from './instance';

/** A registration made over HTTP and when it expires. */
export interface Lease {
  readonly instance: ServiceInstance;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/**
 * The registrations made over HTTP and when each expires unless renewed. Expiry is checked on
 * demand (`takeExpired()`), so the owner decides when to sweep: the registry API does it before
 * every request and from one unref'd timer.
 */
export class RegistrationLeases {
  readonly #ttlMs: number;
  readonly #clock: Clock;
  /** serviceId → lease, in renewal order (oldest first), which is also expiry order. */
  readonly #leases = new Map<string, Lease>();

  constructor(ttlMs: number, clock: Clock) {
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  /** Grants (or replaces) the lease of `instance`. */
  grant(instance: ServiceInstance): Lease {
    const lease = { instance, expiresAt: this.#clock.now() + this.#ttlMs };
    // Re-inserted so the map stays in expiry order and a sweep stops at the first live lease.
    this.#leases.delete(instance.serviceId);
    this.#leases.set(instance.serviceId, lease);
    return lease;
  }

  /** Renews the lease of `serviceId`; undefined when it holds none. */
  renew(serviceId: string): Lease | undefined {
    const lease = this.#leases.get(serviceId);
    return lease === undefined ? undefined : this.grant(lease.instance);
  }

  /** The lease of `serviceId`, if any. */
  get(serviceId: string): Lease | undefined {
    return this.#leases.get(serviceId);
  }

  /** Drops the lease of `serviceId`; returns whether it had one. */
  delete(serviceId: string): boolean {
    return this.#leases.delete(serviceId);
  }

  /** Removes and returns the ids whose lease has run out. */
  takeExpired(): string[] {
    const now = this.#clock.now();
    const expired: string[] = [];
    for (const [serviceId, lease] of this.#leases) {
      if (lease.expiresAt > now) break;
      expired.push(serviceId);
    }
    for (const serviceId of expired) this.#leases.delete(serviceId);
    return expired;
  }

  /** Removes every lease; returns the ids. */
  clear(): string[] {
    const ids = [...this.#leases.keys()];
    this.#leases.clear();
    return ids;
  }
}
