import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { ServiceInstance } from './instance';

/**
 * Chooses among one service's healthy instances. The registry keeps one balancer per service
 * name and calls `update()` whenever that service's healthy set changes (rarely); `pick()` is
 * the hot path and runs in O(1).
 */
export interface LoadBalancer {
  readonly name: string;
  /** Replaces the candidates. The array is not mutated afterwards. */
  update(instances: readonly ServiceInstance[]): void;
  /** One instance, or undefined when there are none. */
  pick(): ServiceInstance | undefined;
  /**
   * The call that a `pick()` was made for has finished. Only balancers that count outstanding
   * calls need it; calling it on the others is harmless.
   */
  release?(instance: ServiceInstance): void;
}

/** The built-in balancers. */
export type LoadBalancerName = 'round-robin' | 'random' | 'weighted' | 'least-outstanding';

/** Makes a balancer for one service name: the way to plug in your own. */
export type LoadBalancerFactory = (serviceName: string) => LoadBalancer;

/** A source of uniform numbers in [0, 1); injectable so tests are deterministic. */
export type RandomSource = () => number;

/**
 * Cycles through the instances in registration order, as the design document's registry does.
 * An update (an instance joining, leaving or changing health) keeps the cursor where it is, so
 * no instance is picked twice in a row because the list changed.
 */
export class RoundRobinBalancer implements LoadBalancer {
  readonly name = 'round-robin';
  #instances: readonly ServiceInstance[] = [];
  #next = 0;

  update(instances: readonly ServiceInstance[]): void {
    this.#instances = instances;
    if (this.#next >= instances.length) this.#next = 0;
  }

  pick(): ServiceInstance | undefined {
    const instances = this.#instances;
    const i = this.#next;
    this.#next = i + 1 >= instances.length ? 0 : i + 1;
    return instances[i];
  }
}

/** Uniformly at random. */
export class RandomBalancer implements LoadBalancer {
  readonly name = 'random';
  #instances: readonly ServiceInstance[] = [];
  constructor(private readonly random: RandomSource = Math.random) {}

  update(instances: readonly ServiceInstance[]): void {
    this.#instances = instances;
  }

  pick(): ServiceInstance | undefined {
    return this.#instances[Math.floor(this.random() * this.#instances.length)];
  }
}

/**
 * In proportion to each instance's `weight`, in O(1) per pick with Vose's alias method: the
 * table costs O(n) to build on `update()`, then one random number picks a column and decides
 * between the column's own instance and its alias.
 */
export class WeightedBalancer implements LoadBalancer {
  readonly name = 'weighted';
  #instances: readonly ServiceInstance[] = [];
  #probability = new Float64Array(0);
  #alias = new Uint32Array(0);
  constructor(private readonly random: RandomSource = Math.random) {}

  update(instances: readonly ServiceInstance[]): void {
    const n = instances.length;
    const probability = new Float64Array(n);
    const alias = new Uint32Array(n);
    let total = 0;
    for (const instance of instances) total += instance.weight;
    const scaled = instances.map((instance) => (instance.weight * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      if (scaled[i]! < 1) small.push(i);
      else large.push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      probability[s] = scaled[s]!;
      alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    // What is left is 1 up to rounding error.
    for (const i of large) probability[i] = 1;
    for (const i of small) probability[i] = 1;
    this.#instances = instances;
    this.#probability = probability;
    this.#alias = alias;
  }

  pick(): ServiceInstance | undefined {
    const n = this.#instances.length;
    if (n === 0) return undefined;
    const u = this.random() * n;
    const column = Math.floor(u);
    return this.#instances[u - column < this.#probability[column]! ? column : this.#alias[column]!];
  }
}

/**
 * Least outstanding requests with the power of two choices: two instances drawn at random, the
 * one with fewer calls in flight wins. Nearly as good as scanning every instance, in O(1), and
 * without the herd a global minimum causes when many clients see the same counts.
 * Every `pick()` counts as a call in flight until `release(instance)`.
 */
export class LeastOutstandingBalancer implements LoadBalancer {
  readonly name = 'least-outstanding';
  #instances: readonly ServiceInstance[] = [];
  #outstanding = new Uint32Array(0);
  /** Keyed by the instance object: an identity lookup is cheaper than hashing the serviceId. */
  #index = new Map<ServiceInstance, number>();
  constructor(private readonly random: RandomSource = Math.random) {}

  update(instances: readonly ServiceInstance[]): void {
    const outstanding = new Uint32Array(instances.length);
    const index = new Map<ServiceInstance, number>();
    const before = new Map<string, number>();
    for (const [instance, i] of this.#index) before.set(instance.serviceId, this.#outstanding[i]!);
    instances.forEach((instance, i) => {
      index.set(instance, i);
      // Calls in flight on an instance that stays (even re-registered) keep counting against it.
      outstanding[i] = before.get(instance.serviceId) ?? 0;
    });
    this.#instances = instances;
    this.#outstanding = outstanding;
    this.#index = index;
  }

  pick(): ServiceInstance | undefined {
    const n = this.#instances.length;
    if (n <= 1) {
      if (n === 1) this.#outstanding[0]!++;
      return this.#instances[0];
    }
    const a = Math.floor(this.random() * n);
    let b = Math.floor(this.random() * (n - 1));
    if (b >= a) b++;
    const chosen = this.#outstanding[b]! < this.#outstanding[a]! ? b : a;
    this.#outstanding[chosen]!++;
    return this.#instances[chosen];
  }

  release(instance: ServiceInstance): void {
    // Not found by identity: re-registered (new object, same serviceId) since it was picked, or
    // gone. Rare, so a scan is fine.
    const i =
      this.#index.get(instance) ?? this.#instances.findIndex((c) => c.serviceId === instance.serviceId);
    if (i !== -1 && this.#outstanding[i]! > 0) this.#outstanding[i]!--;
  }

  /** Calls in flight on `serviceId` as far as this balancer knows. */
  outstanding(serviceId: string): number {
    const i = this.#instances.findIndex((instance) => instance.serviceId === serviceId);
    return i === -1 ? 0 : this.#outstanding[i]!;
  }
}

/** A built-in balancer by name. */
export function createLoadBalancer(name: LoadBalancerName, random: RandomSource = Math.random): LoadBalancer {
  switch (name) {
    case 'round-robin':
      return new RoundRobinBalancer();
    case 'random':
      return new RandomBalancer(random);
    case 'weighted':
      return new WeightedBalancer(random);
    case 'least-outstanding':
      return new LeastOutstandingBalancer(random);
    default:
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `loadBalancer must be one of round-robin, random, weighted, least-outstanding, got ${JSON.stringify(name)}`,
        undefined,
        { retryable: false },
      );
  }
}
