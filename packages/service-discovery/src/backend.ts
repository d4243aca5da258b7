import type { ServiceError } from '@clone/service-errors';
import type { ServiceInstance } from './instance';

/**
 * Where a registry's instances live. A backend hands each registry its own
 * {@link BackendConnection}; the connection publishes the instances that registry owns and
 * reports every instance in the store (its own included) through a {@link BackendListener}.
 */
export interface RegistryBackend {
  /** A short name for events and logs, e.g. `memory` or `etcd`. */
  readonly kind: string;
  /** Opens a connection; it reports to `listener` from now until it is closed. */
  connect(listener: BackendListener): BackendConnection;
}

/** One registry's connection to a backend. */
export interface BackendConnection {
  /** Writes (or rewrites) an instance this registry owns. Idempotent; the registry retries it. */
  publish(instance: ServiceInstance): Promise<void>;
  /** Removes an instance this registry owns. Idempotent; the registry retries it. */
  withdraw(serviceId: string): Promise<void>;
  /** Withdraws everything this connection published and releases its resources. */
  close(): Promise<void>;
}

/** What a connection reports. Calls may come at any time, never re-entrantly from publish(). */
export interface BackendListener {
  /** An instance appeared or changed in the store. */
  upsert(instance: ServiceInstance): void;
  /**
   * An instance left the store (withdrawn, or its owner's lease expired). `serviceName`, when
   * known, tells a stale removal (the instance has since moved to another name) from a real one.
   */
  remove(serviceId: string, serviceName?: string): void;
  /** The whole store, after (re)connecting: anything not in it is gone. */
  snapshot(instances: readonly ServiceInstance[]): void;
  /** The connection is up; anything published before may have to be published again. */
  connected(): void;
  /** The connection is down; the view is kept as it was until it is back. */
  disconnected(error: ServiceError): void;
}
