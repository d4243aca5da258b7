import type { Clock, Logger } from '@clone/service-errors';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { ServiceInstance } from './instance';
import type { LoadBalancer } from './load-balancer';

interface Entry {
  instances: readonly ServiceInstance[];
  balancer: LoadBalancer;
  /** When `instances` was fetched (epoch ms); 0 marks it stale. */
  fetchedAt: number;
}

/** Services whose lists are kept; the least recently fetched goes first beyond it. */
const MAX_SERVICES = 1024;

/**
 * The instances the registry last listed for each service, with a balancer per service. A list
 * younger than `freshMs` is used as is; an older one is still used while a refresh runs in the
 * background, so a lookup waits on the network only the first time a service is asked for (and
 * while the registry is unreachable, the last known list keeps being served).
 */
export class InstanceCache {
  readonly #entries = new Map<string, Entry>();
  /** Fetches in flight, by service. */
  readonly #pending = new Map<string, Promise<readonly ServiceInstance[]>>();
  readonly #fetch: (serviceName: string) => Promise<readonly ServiceInstance[]>;
  readonly #balancerFor: (serviceName: string) => LoadBalancer;
  readonly #clock: Clock;
  readonly #freshMs: number;
  readonly #logger: Logger;
  /** Whether a background refresh may go out now (not while the registry is unreachable). */
  readonly #mayRefresh: () => boolean;

  constructor(options: {
    fetch: (serviceName: string) => Promise<readonly ServiceInstance[]>;
    balancerFor: (serviceName: string) => LoadBalancer;
    clock: Clock;
    freshMs: number;
    logger: Logger;
    mayRefresh: () => boolean;
  }) {
    this.#fetch = options.fetch;
    this.#balancerFor = options.balancerFor;
    this.#clock = options.clock;
    this.#freshMs = options.freshMs;
    this.#logger = options.logger;
    this.#mayRefresh = options.mayRefresh;
  }

  /** The list fetched now (concurrent callers share one request); kept for later lookups. */
  load(serviceName: string): Promise<readonly ServiceInstance[]> {
    let pending = this.#pending.get(serviceName);
    if (pending === undefined) {
      pending = this.#fetch(serviceName)
        .then((instances) => {
          this.#store(serviceName, instances);
          return instances;
        })
        .finally(() => this.#pending.delete(serviceName));
      this.#pending.set(serviceName, pending);
    }
    return pending;
  }

  /** The last list fetched, stale or not; undefined when none ever was. */
  known(serviceName: string): readonly ServiceInstance[] | undefined {
    return this.#entries.get(serviceName)?.instances;
  }

  /**
   * One instance, picked by the service's balancer: synchronously from a known list (refreshed
   * in the background once stale), or after a fetch when there is no list or it is stale and
   * empty.
   * @throws ServiceError SERVICE_UNAVAILABLE naming the service when it has no instance.
   */
  pick(serviceName: string): ServiceInstance | Promise<ServiceInstance> {
    const entry = this.#entries.get(serviceName);
    if (entry === undefined) return this.load(serviceName).then(() => this.#pickFrom(serviceName));
    if (this.#clock.now() - entry.fetchedAt >= this.#freshMs && this.#mayRefresh()) {
      if (entry.instances.length === 0) return this.load(serviceName).then(() => this.#pickFrom(serviceName));
      if (!this.#pending.has(serviceName)) {
        this.load(serviceName).catch((error: unknown) =>
          this.#logger.debug('service discovery: background refresh failed', {
            service: serviceName,
            error: (error as Error)?.message,
          }),
        );
      }
    }
    return this.#pickFrom(serviceName);
  }

  /** Hands an instance back to its balancer (least-outstanding counts). */
  release(instance: ServiceInstance): void {
    this.#entries.get(instance.serviceName)?.balancer.release?.(instance);
  }

  /** Makes every list stale, so the next lookup of each refreshes it (after a reconnection). */
  markStale(): void {
    for (const entry of this.#entries.values()) entry.fetchedAt = 0;
  }

  #pickFrom(serviceName: string): ServiceInstance {
    const entry = this.#entries.get(serviceName);
    const instance = entry?.balancer.pick();
    if (instance === undefined) {
      throw new ServiceError(
        ServiceErrorCode.SERVICE_UNAVAILABLE,
        `No instance of '${serviceName}' is registered`,
        serviceName,
        { retryable: true, metadata: { service: serviceName } },
      );
    }
    return instance;
  }

  #store(serviceName: string, instances: readonly ServiceInstance[]): void {
    let entry = this.#entries.get(serviceName);
    if (entry === undefined) {
      if (this.#entries.size >= MAX_SERVICES) this.#entries.delete(this.#entries.keys().next().value!);
      entry = { instances, balancer: this.#balancerFor(serviceName), fetchedAt: 0 };
      this.#entries.set(serviceName, entry);
    }
    entry.instances = instances;
    entry.fetchedAt = this.#clock.now();
    entry.balancer.update(instances);
  }
}
