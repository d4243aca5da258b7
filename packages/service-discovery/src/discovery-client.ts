import { formatEndpoint } from '@clone/internal';
import {
  Emitter,
  type Listener,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  type TimerHandle,
  type Unsubscribe,
} from '@clone/service-errors';
import {
  discoveryClientOptionsSchema,
  type ParsedDiscoveryClientOptions,
  type ServiceDiscoveryClientOptions,
} from './discovery-client-options';
import { type HttpServiceRegistration, parseHttpRegistration } from './http-registration';
import { parseInstance, type ServiceInstance } from './instance';
import { InstanceCache } from './instance-cache';
import { createLoadBalancer, type LoadBalancerName } from './load-balancer';
import { RegistryConnection } from './registry-connection';
import type { RegisteredService, RegistrationLease } from './registry-http-api';

/** The events of a {@link ServiceDiscoveryClient}. */
export interface ServiceDiscoveryClientEvents {
  /** The registry stopped answering; cached instance lists stay in use meanwhile. */
  'registry:disconnected': { registryUrl: string; error: ServiceError };
  /** The registry answers again; this client's registrations have been sent again. */
  'registry:reconnected': { registryUrl: string };
  /** A registration of this client was accepted (first time, or again after it lapsed). */
  registered: { instance: ServiceInstance };
  /** A registration of this client was withdrawn. */
  deregistered: { serviceId: string };
}

/** Placeholder host used only to check a registration locally when the registry will fill it in. */
const UNKNOWN_HOST = 'registry-fills-this-in';

/** How long `close()` waits for its deregistrations before dropping the connections. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Registers this service with a registry over HTTP (the registry API a gateway mounts), keeps
 * the registration alive with heartbeats, and finds other services: `discover`, a balanced
 * `getServiceInstance` from a short cache refreshed in the background, and `getServiceUrl`.
 * It reports `registry:disconnected` / `registry:reconnected`, serves the last known instances
 * while the registry is away, and registers again when it is back. `close()` deregisters and
 * leaves no handle behind.
 */
export class ServiceDiscoveryClient {
  readonly #o: ParsedDiscoveryClientOptions;
  readonly #events = new Emitter<ServiceDiscoveryClientEvents>();
  readonly #connection: RegistryConnection;
  readonly #cache: InstanceCache;
  /** This client's registrations by serviceId: what it renews and sends again. */
  readonly #own = new Map<string, HttpServiceRegistration>();
  #ttlMs: number | undefined;
  #heartbeatTimer: TimerHandle | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ServiceDiscoveryClientOptions) {
    const o = parseOptions(discoveryClientOptionsSchema, options, 'createServiceDiscoveryClient');
    this.#o = o;
    this.#connection = new RegistryConnection(o, {
      disconnected: (error) =>
        this.#events.emit('registry:disconnected', { registryUrl: o.registryUrl, error }),
      reconnected: () => this.#reconnected(),
    });
    const choice = o.loadBalancer;
    this.#cache = new InstanceCache({
      fetch: (name) => this.#fetchInstances(name),
      balancerFor: (name) =>
        typeof choice === 'function'
          ? choice(name)
          : createLoadBalancer(choice as LoadBalancerName, o.random),
      clock: o.clock,
      freshMs: o.cacheTtlMs,
      logger: o.logger,
      mayRefresh: () => this.#connection.reachable !== false,
    });
  }

  /** Whether the registry answered the last request (undefined before the first). */
  get connected(): boolean | undefined {
    return this.#connection.reachable;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof ServiceDiscoveryClientEvents>(
    event: K,
    listener: Listener<ServiceDiscoveryClientEvents[K]>,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Registers an instance of this service and keeps it registered: heartbeats renew it, and it
   * is sent again if it lapsed or the registry came back empty. Resolves to the instance as
   * registered (its `serviceId` and `host` filled in by the registry when not given).
   * @throws ServiceError BAD_REQUEST naming the field, before anything is sent;
   *   SERVICE_UNAVAILABLE when the registry cannot be reached.
   */
  async register(registration: HttpServiceRegistration): Promise<ServiceInstance> {
    this.#assertOpen();
    const given = registration as HttpServiceRegistration | undefined;
    const host = given?.host ?? this.#o.host;
    const input: HttpServiceRegistration = host === undefined ? { ...given! } : { ...given!, host };
    parseHttpRegistration(input, UNKNOWN_HOST, 'ServiceDiscoveryClient.register');
    const lease = await this.#connection.request<RegistrationLease>('POST', '/instances', input);
    const instance = parseInstance(lease.instance, 'ServiceDiscoveryClient.register (registry answer)');
    this.#own.set(instance.serviceId, { ...input, serviceId: instance.serviceId });
    this.#ttlMs = Math.min(this.#ttlMs ?? lease.ttlMs, lease.ttlMs);
    this.#armHeartbeat();
    this.#o.logger.info('service discovery: registered', { serviceId: instance.serviceId });
    this.#events.emit('registered', { instance });
    return instance;
  }

  /** Withdraws a registration of this client; resolves false when it made no such registration. */
  async deregister(serviceId: string): Promise<boolean> {
    if (!this.#own.delete(serviceId)) return false;
    if (this.#own.size === 0) this.#stopHeartbeat();
    try {
      await this.#connection.request('DELETE', `/instances/${encodeURIComponent(serviceId)}`);
    } catch (error) {
      // Already gone (expired) is what deregistering wanted.
      if ((error as ServiceError).code !== ServiceErrorCode.NOT_FOUND) throw error;
    }
    this.#events.emit('deregistered', { serviceId });
    return true;
  }

  /**
   * Every instance of `serviceName` in rotation, fetched now. While the registry is
   * unreachable, the last list fetched is returned instead, when there is one.
   * @throws ServiceError BAD_REQUEST for an empty name; SERVICE_UNAVAILABLE when the registry
   *   is unreachable and the service was never fetched.
   */
  async discover(serviceName: string): Promise<readonly ServiceInstance[]> {
    this.#assertOpen();
    checkName(serviceName, 'discover');
    try {
      return await this.#cache.load(serviceName);
    } catch (error) {
      const known = this.#cache.known(serviceName);
      if (known !== undefined && this.#connection.reachable === false) return known;
      throw error;
    }
  }

  /**
   * One instance of `serviceName`, chosen by the load balancer: synchronous while the cached
   * list is known (`await` works either way), from the registry otherwise. With
   * `least-outstanding`, pass it to {@link release} when the call ends.
   * @throws ServiceError SERVICE_UNAVAILABLE naming the service when it has no instance.
   */
  getServiceInstance(serviceName: string): ServiceInstance | Promise<ServiceInstance> {
    this.#assertOpen();
    checkName(serviceName, 'getServiceInstance');
    return this.#cache.pick(serviceName);
  }

  /** Reports that the call an instance was picked for has ended. */
  release(instance: ServiceInstance): void {
    this.#cache.release(instance);
  }

  /**
   * The base URL of one instance: `http://host:port` for HTTP instances, the grpc-js target
   * `host:port` for gRPC ones.
   */
  async getServiceUrl(serviceName: string): Promise<string> {
    const instance = await this.getServiceInstance(serviceName);
    this.release(instance);
    const endpoint = formatEndpoint(instance);
    return instance.protocol === 'http' ? `http://${endpoint}` : endpoint;
  }

  /** The services the registry knows, with their instance counts. */
  async listServices(): Promise<RegisteredService[]> {
    this.#assertOpen();
    return this.#connection.request<RegisteredService[]>('GET', '/services');
  }

  /**
   * Stops heartbeats, deregisters this client's instances (waiting at most 2 s for the
   * registry), and closes the connections: no timer or socket is left behind.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopHeartbeat();
      const ids = [...this.#own.keys()];
      this.#own.clear();
      if (ids.length > 0 && this.#connection.reachable !== false) {
        const all = Promise.allSettled(
          ids.map((id) => this.#connection.request('DELETE', `/instances/${encodeURIComponent(id)}`)),
        );
        let timer: TimerHandle | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = this.#o.clock.setTimeout(resolve, CLOSE_GRACE_MS, true);
        });
        await Promise.race([all, grace]);
        this.#o.clock.clearTimeout(timer);
      }
      await this.#connection.close();
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  /** `await using discovery = createServiceDiscoveryClient(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #fetchInstances(serviceName: string): Promise<readonly ServiceInstance[]> {
    const data = await this.#connection.request<unknown[]>(
      'GET',
      `/services/${encodeURIComponent(serviceName)}`,
    );
    if (!Array.isArray(data)) {
      throw new ServiceError(
        ServiceErrorCode.INTERNAL_ERROR,
        `service registry answered '${serviceName}' with no instance list`,
        'service-registry',
        { retryable: false },
      );
    }
    return Object.freeze(data.map((i) => parseInstance(i, 'service registry answer')));
  }

  #armHeartbeat(): void {
    if (this.#heartbeatTimer !== undefined || this.#closing !== undefined || this.#own.size === 0) return;
    const interval = this.#o.heartbeatIntervalMs ?? Math.max(1, Math.floor((this.#ttlMs ?? 30_000) / 3));
    this.#heartbeatTimer = this.#o.clock.setTimeout(
      () => {
        this.#heartbeatTimer = undefined;
        this.#heartbeat().finally(() => this.#armHeartbeat());
      },
      interval,
      true,
    );
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer === undefined) return;
    this.#o.clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  /** Renews every registration; one that lapsed is registered again. */
  async #heartbeat(): Promise<void> {
    // While the registry is unreachable its probe is the heartbeat: reconnecting re-registers.
    if (this.#connection.reachable === false) return;
    for (const [serviceId, registration] of [...this.#own]) {
      if (this.#closing !== undefined) return;
      try {
        await this.#connection.request('PUT', `/instances/${encodeURIComponent(serviceId)}/heartbeat`);
      } catch (error) {
        const e = ServiceError.from(error);
        if (e.code === ServiceErrorCode.NOT_FOUND) await this.#reregister(serviceId, registration);
        else {
          this.#o.logger.warn('service discovery: heartbeat failed', { serviceId, error: e.message });
          // The failure may just have marked the registry unreachable: stop the round there.
          if (this.connected === false) return;
        }
      }
    }
  }

  async #reregister(serviceId: string, registration: HttpServiceRegistration): Promise<void> {
    try {
      const lease = await this.#connection.request<RegistrationLease>('POST', '/instances', registration);
      if (!this.#own.has(serviceId)) return;
      this.#o.logger.info('service discovery: registered again', { serviceId });
      this.#events.emit('registered', { instance: parseInstance(lease.instance, 'service registry answer') });
    } catch (error) {
      this.#o.logger.warn('service discovery: registering again failed', {
        serviceId,
        error: ServiceError.from(error).message,
      });
    }
  }

  #reconnected(): void {
    this.#o.logger.info('service discovery: registry reachable again', { registry: this.#connection.url });
    this.#cache.markStale();
    // The registry may have restarted empty: send every registration again (idempotent).
    const again = [...this.#own].map(([id, registration]) => this.#reregister(id, registration));
    void Promise.all(again).then(() => {
      if (this.#closing === undefined)
        this.#events.emit('registry:reconnected', { registryUrl: this.#o.registryUrl });
    });
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new ServiceError(
        ServiceErrorCode.SERVICE_UNAVAILABLE,
        'ServiceDiscoveryClient is closed',
        'service-registry',
        { retryable: false },
      );
    }
  }
}

function checkName(serviceName: unknown, method: string): void {
  if (typeof serviceName === 'string' && serviceName !== '') return;
  throw new ServiceError(
    ServiceErrorCode.BAD_REQUEST,
    `ServiceDiscoveryClient.${method}: serviceName must be a non-empty string, got ${JSON.stringify(serviceName)}`,
    undefined,
    { retryable: false, metadata: { field: 'serviceName' } },
  );
}

/**
 * A discovery client for services that find each other through a registry over HTTP:
 *
 * ```ts
 * const discovery = createServiceDiscoveryClient({ registryUrl: 'http://api-gateway:3000', logger });
 * await discovery.register({ name: 'auth-service', version: '1.0.0', port: 3001 });
 * const url = await discovery.getServiceUrl('access-service');
 * ```
 *
 * @throws ServiceError BAD_REQUEST naming the field for a bad option.
 */
export function createServiceDiscoveryClient(options: ServiceDiscoveryClientOptions): ServiceDiscoveryClient {
  return new ServiceDiscoveryClient(options);
}
