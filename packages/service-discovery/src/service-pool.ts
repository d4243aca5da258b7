import type { Unsubscribe } from '@clone/service-errors';
import type { ServiceInstance } from './instance';
import type { LoadBalancer } from './load-balancer';

const EMPTY: readonly ServiceInstance[] = Object.freeze([]);

/** A watcher of one service's rotation; see `ServiceRegistry.watch`. */
export type RotationListener = (instances: readonly ServiceInstance[]) => void;

/**
 * The instances of one service name, in registration order: every known one, the rotation (the
 * ones not found unhealthy, frozen, shared with the balancer and the watchers), and the load
 * balancer that picks among the rotation. Changes are rare and rebuild the arrays in O(n);
 * `pick()` is the hot path and stays the balancer's O(1).
 * @internal The registry's; a service team sees it through `ServiceRegistry`.
 */
export class ServicePool {
  readonly name: string;
  readonly balancer: LoadBalancer;
  #instances: readonly ServiceInstance[] = EMPTY;
  #rotation: readonly ServiceInstance[] = EMPTY;
  #watchers: Set<RotationListener> | undefined;

  constructor(name: string, balancer: LoadBalancer) {
    this.name = name;
    this.balancer = balancer;
  }

  /** Every known instance, healthy or not. */
  get instances(): readonly ServiceInstance[] {
    return this.#instances;
  }

  /** The instances in rotation. */
  get rotation(): readonly ServiceInstance[] {
    return this.#rotation;
  }

  /** Adds an instance, or replaces the one with its serviceId in place (keeping its position). */
  put(instance: ServiceInstance): void {
    const i = this.#instances.findIndex((known) => known.serviceId === instance.serviceId);
    this.#instances =
      i === -1
        ? [...this.#instances, instance]
        : this.#instances.map((known, j) => (j === i ? instance : known));
  }

  /** Removes the instance with this serviceId, if known. */
  delete(serviceId: string): void {
    this.#instances = this.#instances.filter((known) => known.serviceId !== serviceId);
  }

  /**
   * Rebuilds the rotation from `inRotation` after a change; when it differs, the balancer and
   * every watcher get the new one. A watcher that throws is reported to `onWatcherError` and
   * does not keep the others from hearing it.
   */
  refresh(
    inRotation: (instance: ServiceInstance) => boolean,
    onWatcherError: (error: unknown) => void,
  ): void {
    const rotation = Object.freeze(this.#instances.filter(inRotation));
    const previous = this.#rotation;
    const changed =
      rotation.length !== previous.length || rotation.some((instance, i) => instance !== previous[i]);
    if (!changed) return;
    this.#rotation = rotation;
    this.balancer.update(rotation);
    for (const watcher of this.#watchers ?? []) {
      try {
        watcher(rotation);
      } catch (error) {
        onWatcherError(error);
      }
    }
  }

  /** Calls `listener` with the rotation now and on every change. */
  watch(listener: RotationListener): Unsubscribe {
    this.#watchers ??= new Set();
    this.#watchers.add(listener);
    listener(this.#rotation);
    return () => {
      this.#watchers?.delete(listener);
    };
  }
}
