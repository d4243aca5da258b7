import { formatEndpoint } from '@clone/internal';
import {
  Emitter,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  type Unsubscribe,
} from '@clone/service-errors';
import type { BackendConnection, BackendListener } from './backend';
import { BackendSync, type BackendWriteError } from './backend-sync';
import { defaultHealthCheck } from './health-check';
import {
  type HealthChange,
  type HealthCheckResult,
  HealthMonitor,
  type HealthStatus,
} from './health-monitor';
import {
  parseInstance,
  type ServiceInstance,
  type ServiceRegistration,
  sameAddress,
  sameInstance,
} from './instance';
import { createLoadBalancer, type LoadBalancerName } from './load-balancer';
import { InMemoryBackend } from './memory-backend';
import {
  type ParsedRegistryOptions,
  registryOptionsSchema,
  type ServiceRegistryOptions,
} from './registry-options';
import { type RotationListener, ServicePool } from './service-pool';

/** The events of a {@link ServiceRegistry}. */
export interface ServiceRegistryEvents {
  /** An instance appeared, or its registration changed. `local`: registered by this registry. */
  registered: { instance: ServiceInstance; local: boolean };
  /** An instance left: deregistered here, withdrawn elsewhere, or its owner's lease expired. */
  deregistered: { instance: ServiceInstance; local: boolean };
  /** A health check of an instance ran (every check, not only those that change its health). */
  healthChecked: HealthCheckResult;
  /** An instance's health changed (after the thresholds' flap damping). */
  healthChanged: HealthChange;
  /** The backend is reachable (first connection and every reconnection). */
  backendConnected: { backend: string };
  /** The backend is unreachable; the last known view stays in use. */
  backendDisconnected: { backend: string; error: ServiceError };
  /** Writing this registry's own instance to the backend failed; it is retried after `retryInMs`. */
  backendError: BackendWriteError;
}

const NONE: readonly ServiceInstance[] = Object.freeze([]);

/**
 * Services find each other by name here. Instances are registered synchronously (visible in
 * this process at once, published to the backend in the background with retries), checked
 * periodically once `startHealthChecks()` is called, and chosen through a load balancer.
 *
 * ```ts
 * const registry = new ServiceRegistry({ backend: new EtcdBackend({ hosts: 'http://etcd:2379' }) });
 * registry.register({ serviceId: 'asr-1', serviceName: 'asr', host: '10.0.0.7', port: 50051, protocol: 'grpc' });
 * registry.startHealthChecks();
 * const asr = registry.getServiceInstance('asr');
 * ```
 */
export class ServiceRegistry {
  readonly #options: ParsedRegistryOptions;
  readonly #events = new Emitter<ServiceRegistryEvents>();
  /** Every known instance by serviceId, ours and others'. */
  readonly #instances = new Map<string, ServiceInstance>();
  readonly #pools = new Map<string, ServicePool>();
  /** Instances this registry registered: what it keeps published. */
  readonly #own = new Map<string, ServiceInstance>();
  readonly #backendKind: string;
  readonly #connection: BackendConnection;
  readonly #sync: BackendSync;
  readonly #health: HealthMonitor;
  readonly #inRotation = (instance: ServiceInstance): boolean =>
    this.#health.status(instance.serviceId) !== 'unhealthy';
  #closing: Promise<void> | undefined;

  constructor(options: ServiceRegistryOptions = {}) {
    const o = parseOptions(registryOptionsSchema, options, 'ServiceRegistry');
    this.#options = o;
    const backend = o.backend ?? new InMemoryBackend();
    this.#backendKind = backend.kind;
    this.#health = new HealthMonitor({
      check: o.healthCheck ?? defaultHealthCheck({ grpcCredentials: o.grpcCredentials }),
      intervalMs: o.healthCheckIntervalMs,
      timeoutMs: o.healthCheckTimeoutMs,
      jitter: o.healthCheckJitter,
      unhealthyThreshold: o.unhealthyThreshold,
      healthyThreshold: o.healthyThreshold,
      clock: o.clock,
      random: o.random,
      onCheck: (result) => this.#events.emit('healthChecked', result),
      onChange: (change) => this.#healthChanged(change),
    });
    this.#sync = new BackendSync({
      // Looked up per write: the connection is opened below, and nothing is ours to write before.
      connection: {
        publish: (instance) => this.#connection.publish(instance),
        withdraw: (serviceId) => this.#connection.withdraw(serviceId),
      },
      backend: backend.kind,
      desired: (serviceId) => this.#own.get(serviceId),
      initialDelayMs: o.backendRetryMinMs,
      maxDelayMs: o.backendRetryMaxMs,
      clock: o.clock,
      random: o.random,
      logger: o.logger,
      onError: (event) => this.#events.emit('backendError', event),
    });
    this.#connection = backend.connect(this.#listener());
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof ServiceRegistryEvents>(
    event: K,
    listener: (payload: ServiceRegistryEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Registers an instance this process is responsible for. Synchronous: it is visible here at
   * once and published to the backend in the background (a failure there is a `backendError`
   * event and a retry, never a rejection). Registering the same `serviceId` again updates it.
   * @throws ServiceError BAD_REQUEST naming the field, for an invalid registration or a
   *   `serviceId` already registered at another address.
   */
  register(registration: ServiceRegistration): ServiceInstance {
    this.#assertOpen();
    const instance = parseInstance(registration);
    const existing = this.#instances.get(instance.serviceId);
    if (existing !== undefined && !sameAddress(existing, instance)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `ServiceRegistry.register: serviceId '${instance.serviceId}' is already registered at ${existing.protocol}://${formatEndpoint(existing)}, got ${instance.protocol}://${formatEndpoint(instance)}`,
        undefined,
        { retryable: false, metadata: { field: 'serviceId', serviceId: instance.serviceId } },
      );
    }
    this.#own.set(instance.serviceId, instance);
    this.#upsert(instance, true);
    this.#sync.sync(instance.serviceId);
    return this.#instances.get(instance.serviceId)!;
  }

  /**
   * Deregisters an instance this registry registered; returns false when it registered no
   * such instance (another process's instances are removed by that process, or by their lease).
   */
  deregister(serviceId: string): boolean {
    if (!this.#own.delete(serviceId)) return false;
    this.#remove(serviceId, true);
    this.#sync.sync(serviceId);
    return true;
  }

  /** Every known instance of `serviceName`, healthy or not. */
  getInstances(serviceName: string): readonly ServiceInstance[] {
    return this.#pools.get(serviceName)?.instances.slice() ?? [];
  }

  /** The instances of `serviceName` in rotation: not (yet) found unhealthy. */
  getHealthyInstances(serviceName: string): readonly ServiceInstance[] {
    return this.#pools.get(serviceName)?.rotation ?? NONE;
  }

  /** Every instance in rotation, under the name a discovery client asks with. */
  discover(serviceName: string): readonly ServiceInstance[] {
    return this.getHealthyInstances(serviceName);
  }

  /** The health of one instance, or undefined when it is unknown to this registry. */
  getHealth(serviceId: string): HealthStatus | undefined {
    return this.#health.status(serviceId);
  }

  /** Every known service name. */
  getServiceNames(): string[] {
    return [...this.#pools.values()].filter((p) => p.instances.length > 0).map((p) => p.name);
  }

  /**
   * One healthy instance of `serviceName`, chosen by the load balancer. With
   * `least-outstanding`, pass it to {@link release} when the call ends (or use {@link withInstance}).
   * @throws ServiceError SERVICE_UNAVAILABLE (retryable) when no instance is in rotation.
   */
  getServiceInstance(serviceName: string): ServiceInstance {
    const instance = this.#pools.get(serviceName)?.balancer.pick();
    if (instance === undefined) throw this.#unavailable(serviceName);
    return instance;
  }

  /** Reports that the call an instance was picked for has ended (least-outstanding counts). */
  release(instance: ServiceInstance): void {
    this.#pools.get(instance.serviceName)?.balancer.release?.(instance);
  }

  /** Picks an instance, runs `fn` with it and releases it however `fn` ends. */
  async withInstance<T>(serviceName: string, fn: (instance: ServiceInstance) => Promise<T> | T): Promise<T> {
    const instance = this.getServiceInstance(serviceName);
    try {
      return await fn(instance);
    } finally {
      this.release(instance);
    }
  }

  /**
   * The base URL of one healthy instance: `http://host:port` for HTTP instances, a grpc-js
   * target `host:port` for gRPC ones.
   * @throws ServiceError SERVICE_UNAVAILABLE when no instance is in rotation.
   */
  getServiceUrl(serviceName: string): string {
    const instance = this.getServiceInstance(serviceName);
    this.release(instance);
    const endpoint = formatEndpoint(instance);
    return instance.protocol === 'http' ? `http://${endpoint}` : endpoint;
  }

  /**
   * Calls `listener` with the healthy instances of `serviceName` now and whenever they change.
   * What the grpc-js resolver is built on.
   */
  watch(serviceName: string, listener: RotationListener): Unsubscribe {
    return this.#pool(serviceName).watch(listener);
  }

  /**
   * Starts checking every known instance: at once, then every `healthCheckIntervalMs` (with
   * jitter). Instances that arrive later are checked as they come. Timers are unref'd.
   */
  startHealthChecks(): void {
    this.#assertOpen();
    this.#health.start();
  }

  /** Stops health checking: no timer and no check left running. Statuses are kept. */
  stop(): void {
    this.#health.stop();
  }

  /**
   * Stops everything and leaves no handle behind: health checks, retries, and the backend
   * connection, which withdraws this registry's instances (etcd: revokes the lease).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.stop();
      this.#sync.close();
      try {
        await this.#connection.close();
      } catch (error) {
        this.#options.logger.warn('service registry: closing the backend failed', {
          error: ServiceError.from(error),
        });
      }
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  /** `await using registry = new ServiceRegistry()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** What the backend connection reports, applied to the view. */
  #listener(): BackendListener {
    return {
      upsert: (instance) => {
        if (this.#closing || this.#own.has(instance.serviceId)) return;
        this.#upsert(instance, false);
      },
      remove: (serviceId, serviceName) => {
        if (this.#closing) return;
        const known = this.#instances.get(serviceId)?.serviceName;
        if (serviceName !== undefined && known !== undefined && known !== serviceName) return;
        // Our own instance vanished from the store (an outage, an expired lease): put it back.
        if (this.#own.has(serviceId)) this.#sync.sync(serviceId);
        else this.#remove(serviceId, false);
      },
      snapshot: (instances) => {
        if (this.#closing) return;
        const present = new Set<string>();
        for (const instance of instances) {
          present.add(instance.serviceId);
          if (!this.#own.has(instance.serviceId)) this.#upsert(instance, false);
        }
        for (const id of [...this.#instances.keys()]) {
          if (present.has(id)) continue;
          if (this.#own.has(id)) this.#sync.sync(id);
          else this.#remove(id, false);
        }
      },
      connected: () => {
        if (this.#closing) return;
        this.#options.logger.info('service registry: backend connected', { backend: this.#backendKind });
        // Republishing is idempotent, and after a lost lease it is what brings us back.
        for (const id of this.#own.keys()) this.#sync.sync(id);
        this.#events.emit('backendConnected', { backend: this.#backendKind });
      },
      disconnected: (error) => {
        if (this.#closing) return;
        this.#options.logger.warn('service registry: backend disconnected', {
          backend: this.#backendKind,
          error,
        });
        this.#events.emit('backendDisconnected', { backend: this.#backendKind, error });
      },
    };
  }

  #pool(name: string): ServicePool {
    let pool = this.#pools.get(name);
    if (pool === undefined) {
      const choice = this.#options.loadBalancer;
      const balancer =
        typeof choice === 'function'
          ? choice(name)
          : createLoadBalancer(choice as LoadBalancerName, this.#options.random);
      pool = new ServicePool(name, balancer);
      this.#pools.set(name, pool);
    }
    return pool;
  }

  #upsert(instance: ServiceInstance, local: boolean): void {
    const existing = this.#instances.get(instance.serviceId);
    if (existing !== undefined) {
      if (sameInstance(existing, instance)) return;
      // Renamed: leave the old pool as if deregistered, join the new one below.
      if (existing.serviceName !== instance.serviceName) this.#remove(instance.serviceId, local);
    }
    const updated = this.#instances.has(instance.serviceId);
    this.#instances.set(instance.serviceId, instance);
    if (updated) this.#health.update(instance);
    else this.#health.add(instance);
    const pool = this.#pool(instance.serviceName);
    pool.put(instance);
    this.#refresh(pool);
    this.#events.emit('registered', { instance, local });
  }

  #remove(serviceId: string, local: boolean): void {
    const instance = this.#instances.get(serviceId);
    if (instance === undefined) return;
    this.#instances.delete(serviceId);
    this.#health.remove(serviceId);
    const pool = this.#pool(instance.serviceName);
    pool.delete(serviceId);
    this.#refresh(pool);
    this.#events.emit('deregistered', { instance, local });
  }

  #refresh(pool: ServicePool): void {
    pool.refresh(this.#inRotation, (error) =>
      this.#options.logger.warn('service registry: a watcher threw', { service: pool.name, error }),
    );
  }

  #healthChanged(change: HealthChange): void {
    this.#refresh(this.#pool(change.instance.serviceName));
    this.#options.logger.info('service registry: health changed', {
      serviceId: change.instance.serviceId,
      previous: change.previous,
      current: change.current,
      error: change.error?.message,
    });
    this.#events.emit('healthChanged', change);
  }

  #unavailable(serviceName: string): ServiceError {
    const known = this.#pools.get(serviceName)?.instances.length ?? 0;
    return new ServiceError(
      ServiceErrorCode.SERVICE_UNAVAILABLE,
      known === 0
        ? `No instance of '${serviceName}' is registered`
        : `No healthy instance of '${serviceName}' (${known} registered, all unhealthy)`,
      serviceName,
      { retryable: true, metadata: { registered: known } },
    );
  }

  #assertOpen(): void {
    if (this.#closing) {
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'ServiceRegistry is closed', undefined, {
        retryable: false,
      });
    }
  }
}
