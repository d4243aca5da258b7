import { intAtLeast, numberAtLeast } from '@clone/internal';
import {
  type Clock,
  Emitter,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type TimerHandle,
  type Unsubscribe,
} from '@clone/service-errors';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { z } from 'zod';
import type { BackendConnection, BackendListener, RegistryBackend } from './backend';
import { defaultHealthCheck, type HealthCheck } from './health-check';
import {
  hostPort,
  parseInstance,
  type ServiceInstance,
  type ServiceRegistration,
  sameAddress,
  sameInstance,
} from './instance';
import {
  createLoadBalancer,
  type LoadBalancer,
  type LoadBalancerFactory,
  type LoadBalancerName,
} from './load-balancer';
import { InMemoryBackend } from './memory-backend';

/** `unknown` until the first check; instances that are not `unhealthy` are in rotation. */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** The events of a {@link ServiceRegistry}. */
export interface ServiceRegistryEvents {
  /** An instance appeared, or its registration changed. `local`: registered by this registry. */
  registered: { instance: ServiceInstance; local: boolean };
  /** An instance left: deregistered here, withdrawn elsewhere, or its owner's lease expired. */
  deregistered: { instance: ServiceInstance; local: boolean };
  /** An instance's health changed (after the thresholds' flap damping). */
  healthChanged: {
    instance: ServiceInstance;
    previous: HealthStatus;
    current: HealthStatus;
    /** Why the last check failed, when it did. */
    error?: ServiceError;
  };
  /** The backend is reachable (first connection and every reconnection). */
  backendConnected: { backend: string };
  /** The backend is unreachable; the last known view stays in use. */
  backendDisconnected: { backend: string; error: ServiceError };
  /** Writing this registry's own instance to the backend failed; it is retried after `retryInMs`. */
  backendError: {
    backend: string;
    operation: 'publish' | 'withdraw';
    serviceId: string;
    error: ServiceError;
    attempt: number;
    retryInMs: number;
  };
}

const isFunction = (v: unknown): boolean => typeof v === 'function';

const optionsSchema = z.strictObject({
  /** Where instances live. Default: a private {@link InMemoryBackend}. */
  backend: z
    .custom<RegistryBackend>((v) => typeof (v as RegistryBackend | null)?.connect === 'function', {
      error: 'must be a RegistryBackend (an object with connect())',
    })
    .optional(),
  /** Time between two checks of one instance. Default 30 s (the seed's). */
  healthCheckIntervalMs: intAtLeast(1).default(30_000),
  /** How long one check may take before it counts as failed. Default 5 s. */
  healthCheckTimeoutMs: intAtLeast(1).default(5_000),
  /** Each interval is stretched or shrunk at random by up to this fraction. Default 0.1. */
  healthCheckJitter: numberAtLeast(0, 1).default(0.1),
  /** Consecutive failed checks that take a healthy instance out of rotation. Default 2. */
  unhealthyThreshold: intAtLeast(1).default(2),
  /** Consecutive passed checks that bring an unhealthy instance back. Default 2. */
  healthyThreshold: intAtLeast(1).default(2),
  /** Replaces the standard gRPC/HTTP checks, e.g. with a TCP connect. */
  healthCheck: z.custom<HealthCheck>(isFunction, { error: 'must be a function' }).optional(),
  /** Credentials of the standard gRPC health check. Default: plaintext. */
  grpcCredentials: z.custom<ChannelCredentials>((v) => typeof v === 'object' && v !== null).optional(),
  /** A built-in balancer by name, or a factory making one per service name. */
  loadBalancer: z
    .union(
      [
        z.enum(['round-robin', 'random', 'weighted', 'least-outstanding']),
        z.custom<LoadBalancerFactory>(isFunction),
      ],
      { error: "must be 'round-robin', 'random', 'weighted', 'least-outstanding' or a factory function" },
    )
    .default('round-robin'),
  /** First delay before a failed backend write is retried; doubles up to `backendRetryMaxMs`. */
  backendRetryMinMs: intAtLeast(1).default(100),
  backendRetryMaxMs: intAtLeast(1).default(10_000),
  logger: z.custom<Logger>((v) => typeof (v as Logger | null)?.warn === 'function').default(noopLogger),
  clock: z.custom<Clock>((v) => typeof (v as Clock | null)?.setTimeout === 'function').default(systemClock),
});

/** Options of a {@link ServiceRegistry}. */
export type ServiceRegistryOptions = z.input<typeof optionsSchema>;

interface Entry {
  instance: ServiceInstance;
  health: HealthStatus;
  passes: number;
  failures: number;
  timer: TimerHandle | undefined;
  check: AbortController | undefined;
}

interface Pool {
  readonly name: string;
  entries: Entry[];
  healthy: readonly ServiceInstance[];
  readonly balancer: LoadBalancer;
  watchers: Set<(instances: readonly ServiceInstance[]) => void> | undefined;
}

interface Sync {
  running: boolean;
  again: boolean;
  attempt: number;
  timer: TimerHandle | undefined;
}

const EMPTY: readonly ServiceInstance[] = Object.freeze([]);

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
  readonly #options: z.output<typeof optionsSchema>;
  readonly #events = new Emitter<ServiceRegistryEvents>();
  readonly #entries = new Map<string, Entry>();
  readonly #pools = new Map<string, Pool>();
  /** Instances this registry registered: what it keeps published. */
  readonly #own = new Map<string, ServiceInstance>();
  readonly #syncs = new Map<string, Sync>();
  readonly #backendKind: string;
  readonly #connection: BackendConnection;
  readonly #check: HealthCheck;
  #checking = false;
  #closing: Promise<void> | undefined;

  constructor(options: ServiceRegistryOptions = {}) {
    this.#options = parseOptions(optionsSchema, options, 'ServiceRegistry');
    const backend = this.#options.backend ?? new InMemoryBackend();
    this.#backendKind = backend.kind;
    this.#check =
      this.#options.healthCheck ?? defaultHealthCheck({ grpcCredentials: this.#options.grpcCredentials });
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
    const existing = this.#entries.get(instance.serviceId)?.instance;
    if (existing !== undefined && !sameAddress(existing, instance)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `ServiceRegistry.register: serviceId '${instance.serviceId}' is already registered at ${existing.protocol}://${hostPort(existing)}, got ${instance.protocol}://${hostPort(instance)}`,
        undefined,
        { retryable: false, metadata: { field: 'serviceId', serviceId: instance.serviceId } },
      );
    }
    this.#own.set(instance.serviceId, instance);
    this.#upsert(instance, true);
    this.#sync(instance.serviceId);
    return this.#entries.get(instance.serviceId)!.instance;
  }

  /**
   * Deregisters an instance this registry registered; returns false when it registered no
   * such instance (another process's instances are removed by that process, or by their lease).
   */
  deregister(serviceId: string): boolean {
    if (!this.#own.delete(serviceId)) return false;
    this.#remove(serviceId, true);
    this.#sync(serviceId);
    return true;
  }

  /** Every known instance of `serviceName`, healthy or not. */
  getInstances(serviceName: string): readonly ServiceInstance[] {
    return this.#pools.get(serviceName)?.entries.map((e) => e.instance) ?? EMPTY;
  }

  /** The instances of `serviceName` in rotation: not (yet) found unhealthy. */
  getHealthyInstances(serviceName: string): readonly ServiceInstance[] {
    return this.#pools.get(serviceName)?.healthy ?? EMPTY;
  }

  /** Seed 002's name for {@link getHealthyInstances}: every instance in rotation. */
  discover(serviceName: string): readonly ServiceInstance[] {
    return this.getHealthyInstances(serviceName);
  }

  /** The health of one instance, or undefined when it is unknown to this registry. */
  getHealth(serviceId: string): HealthStatus | undefined {
    return this.#entries.get(serviceId)?.health;
  }

  /** Every known service name. */
  getServiceNames(): string[] {
    return [...this.#pools.values()].filter((p) => p.entries.length > 0).map((p) => p.name);
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
    return instance.protocol === 'http' ? `http://${hostPort(instance)}` : hostPort(instance);
  }

  /**
   * Calls `listener` with the healthy instances of `serviceName` now and whenever they change.
   * What the grpc-js resolver is built on.
   */
  watch(serviceName: string, listener: (instances: readonly ServiceInstance[]) => void): Unsubscribe {
    const pool = this.#pool(serviceName);
    pool.watchers ??= new Set();
    pool.watchers.add(listener);
    listener(pool.healthy);
    return () => {
      pool.watchers?.delete(listener);
    };
  }

  /**
   * Starts checking every known instance: at once, then every `healthCheckIntervalMs` (with
   * jitter). Instances that arrive later are checked as they come. Timers are unref'd.
   */
  startHealthChecks(): void {
    this.#assertOpen();
    if (this.#checking) return;
    this.#checking = true;
    for (const entry of this.#entries.values()) this.#schedule(entry, 0);
  }

  /** Stops health checking: no timer and no check left running. Statuses are kept. */
  stop(): void {
    this.#checking = false;
    for (const entry of this.#entries.values()) this.#cancelCheck(entry);
  }

  /**
   * Stops everything and leaves no handle behind: health checks, retries, and the backend
   * connection, which withdraws this registry's instances (etcd: revokes the lease).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.stop();
      for (const sync of this.#syncs.values())
        if (sync.timer !== undefined) this.#options.clock.clearTimeout(sync.timer);
      this.#syncs.clear();
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

  // -- view ---------------------------------------------------------------------------------

  #listener(): BackendListener {
    return {
      upsert: (instance) => {
        if (this.#closing || this.#own.has(instance.serviceId)) return;
        this.#upsert(instance, false);
      },
      remove: (serviceId, serviceName) => {
        if (this.#closing) return;
        const known = this.#entries.get(serviceId)?.instance.serviceName;
        if (serviceName !== undefined && known !== undefined && known !== serviceName) return;
        // Our own instance vanished from the store (an outage, an expired lease): put it back.
        if (this.#own.has(serviceId)) this.#sync(serviceId);
        else this.#remove(serviceId, false);
      },
      snapshot: (instances) => {
        if (this.#closing) return;
        const present = new Set<string>();
        for (const instance of instances) {
          present.add(instance.serviceId);
          if (!this.#own.has(instance.serviceId)) this.#upsert(instance, false);
        }
        for (const id of [...this.#entries.keys()]) {
          if (present.has(id)) continue;
          if (this.#own.has(id)) this.#sync(id);
          else this.#remove(id, false);
        }
      },
      connected: () => {
        if (this.#closing) return;
        this.#options.logger.info('service registry: backend connected', { backend: this.#backendKind });
        // Republishing is idempotent, and after a lost lease it is what brings us back.
        for (const id of this.#own.keys()) this.#sync(id);
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

  #pool(name: string): Pool {
    let pool = this.#pools.get(name);
    if (pool === undefined) {
      const choice = this.#options.loadBalancer;
      const balancer =
        typeof choice === 'function' ? choice(name) : createLoadBalancer(choice as LoadBalancerName);
      pool = { name, entries: [], healthy: EMPTY, balancer, watchers: undefined };
      this.#pools.set(name, pool);
    }
    return pool;
  }

  #upsert(instance: ServiceInstance, local: boolean): void {
    const entry = this.#entries.get(instance.serviceId);
    if (entry !== undefined) {
      if (sameInstance(entry.instance, instance)) return;
      const moved =
        !sameAddress(entry.instance, instance) || entry.instance.serviceName !== instance.serviceName;
      if (entry.instance.serviceName !== instance.serviceName) {
        // Renamed: leave the old pool as if deregistered, join the new one below.
        this.#remove(instance.serviceId, local);
      } else {
        entry.instance = instance;
        if (moved) this.#resetHealth(entry);
        this.#refresh(this.#pool(instance.serviceName));
        this.#events.emit('registered', { instance, local });
        return;
      }
    }
    const created: Entry = {
      instance,
      health: 'unknown',
      passes: 0,
      failures: 0,
      timer: undefined,
      check: undefined,
    };
    this.#entries.set(instance.serviceId, created);
    const pool = this.#pool(instance.serviceName);
    pool.entries = [...pool.entries, created];
    this.#refresh(pool);
    this.#events.emit('registered', { instance, local });
    if (this.#checking) this.#schedule(created, 0);
  }

  #remove(serviceId: string, local: boolean): void {
    const entry = this.#entries.get(serviceId);
    if (entry === undefined) return;
    this.#entries.delete(serviceId);
    this.#cancelCheck(entry);
    const pool = this.#pool(entry.instance.serviceName);
    pool.entries = pool.entries.filter((e) => e !== entry);
    this.#refresh(pool);
    this.#events.emit('deregistered', { instance: entry.instance, local });
  }

  /** Rebuilds the rotation of a pool after a change; rare, so O(n) is fine here. */
  #refresh(pool: Pool): void {
    const healthy = Object.freeze(
      pool.entries.filter((e) => e.health !== 'unhealthy').map((e) => e.instance),
    );
    const changed =
      healthy.length !== pool.healthy.length || healthy.some((instance, i) => instance !== pool.healthy[i]);
    if (!changed) return;
    pool.healthy = healthy;
    pool.balancer.update(healthy);
    for (const watcher of pool.watchers ?? []) {
      try {
        watcher(healthy);
      } catch (error) {
        this.#options.logger.warn('service registry: a watcher threw', { service: pool.name, error });
      }
    }
  }

  #unavailable(serviceName: string): ServiceError {
    const known = this.#pools.get(serviceName)?.entries.length ?? 0;
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

  // -- backend writes -----------------------------------------------------------------------

  /**
   * Brings the backend in line with `#own` for one serviceId: publish if we own it, withdraw
   * if not. One write in flight per id; a change while it runs triggers one more; a failure
   * is reported and retried with capped exponential backoff.
   */
  #sync(serviceId: string): void {
    if (this.#closing) return;
    let sync = this.#syncs.get(serviceId);
    if (sync === undefined) {
      sync = { running: false, again: false, attempt: 0, timer: undefined };
      this.#syncs.set(serviceId, sync);
    }
    if (sync.running) {
      sync.again = true;
      return;
    }
    if (sync.timer !== undefined) {
      this.#options.clock.clearTimeout(sync.timer);
      sync.timer = undefined;
    }
    const state = sync;
    const own = this.#own.get(serviceId);
    const operation = own === undefined ? 'withdraw' : 'publish';
    state.running = true;
    let write: Promise<void>;
    try {
      write = own === undefined ? this.#connection.withdraw(serviceId) : this.#connection.publish(own);
    } catch (error) {
      write = Promise.reject(error);
    }
    write.then(
      () => {
        state.running = false;
        state.attempt = 0;
        if (this.#closing) return;
        if (state.again) {
          state.again = false;
          this.#sync(serviceId);
        } else if (this.#syncs.get(serviceId) === state) {
          this.#syncs.delete(serviceId);
        }
      },
      (cause: unknown) => {
        state.running = false;
        state.again = false;
        if (this.#closing) return;
        const error = ServiceError.from(cause);
        const { backendRetryMinMs: min, backendRetryMaxMs: max } = this.#options;
        const base = Math.min(max, min * 2 ** Math.min(state.attempt, 20));
        const retryInMs = Math.round(base / 2 + (Math.random() * base) / 2);
        state.attempt++;
        this.#options.logger.warn('service registry: backend write failed, retrying', {
          backend: this.#backendKind,
          operation,
          serviceId,
          retryInMs,
          error,
        });
        this.#events.emit('backendError', {
          backend: this.#backendKind,
          operation,
          serviceId,
          error,
          attempt: state.attempt,
          retryInMs,
        });
        state.timer = this.#options.clock.setTimeout(
          () => {
            state.timer = undefined;
            this.#sync(serviceId);
          },
          retryInMs,
          true,
        );
      },
    );
  }

  // -- health checks ------------------------------------------------------------------------

  #schedule(entry: Entry, delayMs: number): void {
    if (entry.timer !== undefined) this.#options.clock.clearTimeout(entry.timer);
    entry.timer = this.#options.clock.setTimeout(
      () => {
        entry.timer = undefined;
        void this.#runCheck(entry);
      },
      delayMs,
      true,
    );
  }

  #cancelCheck(entry: Entry): void {
    if (entry.timer !== undefined) this.#options.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.check?.abort(new ServiceError(ServiceErrorCode.CANCELLED, 'health checks stopped'));
    entry.check = undefined;
  }

  async #runCheck(entry: Entry): Promise<void> {
    const { clock, healthCheckTimeoutMs, healthCheckIntervalMs, healthCheckJitter } = this.#options;
    const controller = new AbortController();
    entry.check = controller;
    const instance = entry.instance;
    const timeout = clock.setTimeout(
      () =>
        controller.abort(
          new ServiceError(
            ServiceErrorCode.TIMEOUT,
            `health check timed out after ${healthCheckTimeoutMs} ms`,
            instance.serviceName,
          ),
        ),
      healthCheckTimeoutMs,
      true,
    );
    let healthy = false;
    let error: ServiceError | undefined;
    try {
      healthy = await this.#check(instance, controller.signal);
      if (!healthy)
        error = new ServiceError(
          ServiceErrorCode.SERVICE_UNAVAILABLE,
          'health check failed',
          instance.serviceName,
        );
    } catch (cause) {
      error = ServiceError.from(
        controller.signal.aborted ? (controller.signal.reason ?? cause) : cause,
        instance.serviceName,
      );
    } finally {
      clock.clearTimeout(timeout);
    }
    // Stopped, removed or re-registered elsewhere while the check ran: its result is stale.
    if (entry.check !== controller || this.#entries.get(instance.serviceId) !== entry) return;
    entry.check = undefined;
    if (entry.instance === instance) this.#record(entry, healthy, error);
    if (!this.#checking) return;
    const spread = healthCheckIntervalMs * healthCheckJitter;
    this.#schedule(
      entry,
      Math.max(0, Math.round(healthCheckIntervalMs - spread + Math.random() * 2 * spread)),
    );
  }

  #record(entry: Entry, healthy: boolean, error: ServiceError | undefined): void {
    const previous = entry.health;
    if (healthy) {
      entry.failures = 0;
      entry.passes++;
      if (
        previous === 'healthy' ||
        (previous === 'unhealthy' && entry.passes < this.#options.healthyThreshold)
      )
        return;
      entry.health = 'healthy';
    } else {
      entry.passes = 0;
      entry.failures++;
      if (
        previous === 'unhealthy' ||
        (previous === 'healthy' && entry.failures < this.#options.unhealthyThreshold)
      )
        return;
      entry.health = 'unhealthy';
    }
    this.#refresh(this.#pool(entry.instance.serviceName));
    const event: ServiceRegistryEvents['healthChanged'] = {
      instance: entry.instance,
      previous,
      current: entry.health,
    };
    if (error !== undefined) event.error = error;
    this.#options.logger.info('service registry: health changed', {
      serviceId: entry.instance.serviceId,
      previous,
      current: entry.health,
      error: error?.message,
    });
    this.#events.emit('healthChanged', event);
  }

  #resetHealth(entry: Entry): void {
    entry.health = 'unknown';
    entry.passes = 0;
    entry.failures = 0;
    if (this.#checking) this.#schedule(entry, 0);
  }
}
