import type { BackendConnection, BackendListener, RegistryBackend } from './backend';
import type { ServiceInstance } from './instance';

/**
 * The embedded default: a store in this process. Registries given the same instance see each
 * other's registrations, which makes it a faithful stand-in for etcd in a single process.
 */
export class InMemoryBackend implements RegistryBackend {
  readonly kind = 'memory';
  readonly #instances = new Map<string, ServiceInstance>();
  readonly #listeners = new Set<BackendListener>();

  connect(listener: BackendListener): BackendConnection {
    const owned = new Set<string>();
    let open = true;
    this.#listeners.add(listener);
    // Reported on the next tick, like a remote store would, so a registry under construction
    // has its listeners attached by the time they fire.
    queueMicrotask(() => {
      if (!open) return;
      listener.snapshot([...this.#instances.values()]);
      listener.connected();
    });
    return {
      publish: async (instance) => {
        if (!open) return;
        owned.add(instance.serviceId);
        if (this.#instances.get(instance.serviceId) === instance) return;
        this.#instances.set(instance.serviceId, instance);
        this.#broadcast((l) => l.upsert(instance));
      },
      withdraw: async (serviceId) => {
        if (!open) return;
        owned.delete(serviceId);
        this.#remove(serviceId);
      },
      close: async () => {
        if (!open) return;
        open = false;
        this.#listeners.delete(listener);
        for (const id of owned) this.#remove(id);
      },
    };
  }

  #remove(serviceId: string): void {
    const instance = this.#instances.get(serviceId);
    if (instance === undefined) return;
    this.#instances.delete(serviceId);
    this.#broadcast((l) => l.remove(serviceId, instance.serviceName));
  }

  /**
   * Changes reach listeners on a later microtask, in order, as from a remote store: never from
   * inside the publish() that caused them, so one registry's register() does not run another's
   * event handlers on its stack.
   */
  #broadcast(deliver: (listener: BackendListener) => void): void {
    queueMicrotask(() => {
      for (const listener of this.#listeners) deliver(listener);
    });
  }
}
