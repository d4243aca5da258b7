import type { ServiceClient as HttpServiceClient } from '@clone/http-client';
import { formatValue } from '@clone/internal';
import { ServiceAuthManager } from '@clone/service-auth';
import {
  type CloneResolverRegistration,
  registerCloneResolver,
  ServiceRegistry,
} from '@clone/service-discovery';
import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type Clock,
  Emitter,
  type Env,
  type ExecuteContext,
  type Listener,
  type Logger,
  noopLogger,
  parseOptions,
  type RetryOptions,
  type RetryPolicy,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import type { Interceptor } from '@grpc/grpc-js';
import { checkCallArguments } from './call-arguments';
import { type ExecutorEnvironment, executeCall, type ServiceCallOptions } from './call-executor';
import type { CallTelemetry } from './call-telemetry';
import { type ClientFactory, type ClientTarget, managedClientFactory } from './client-factory';
import {
  configFromEnv,
  type ParsedServiceCommunicationConfig,
  type ServiceCommunicationConfig,
  serviceCommunicationConfigSchema,
  serviceSettingsSchema,
} from './config';
import { badRequest } from './errors';
import type { ServiceCommunicationEvents } from './events';
import { type ManagerHttpClientOptions, makeHttpClient } from './http-clients';
import { CLIENT_PERMISSIONS, ProductClients } from './product-clients';
import type { ServiceKind } from './protos';
import { ServicePolicySet } from './service-policy-set';
import { ServiceTokens } from './service-tokens';
import type { ServiceClient } from './typed-client';
import { WakeOnCloseClock } from './wake-on-close-clock';

export type { ServiceCallOptions } from './call-executor';

/** Per-client options of {@link ServiceCommunicationManager.createClient}. */
export interface ManagerClientOptions {
  /**
   * The callee's name in the token's `aud`. Default: the service name the client resolves
   * through discovery, else the kind (`asr`), so a token is only good at the callee it was
   * sent to (a server given its `serviceName` requires it).
   */
  audience?: string | undefined;
  /** Interceptors of this client: run after the built-in context interceptor, before `client.interceptors`. */
  interceptors?: readonly Interceptor[] | undefined;
}

/**
 * What a service team touches first: typed, authenticated clients of the five services and a
 * circuit breaker and retry policy per callee.
 *
 * ```ts
 * const comm = new ServiceCommunicationManager({
 *   serviceId: 'websocket-server-1', serviceName: 'websocket-server', jwtSecret: process.env.JWT_SECRET!,
 *   tokenExpirySeconds: 3600, healthCheckIntervalMs: 30000, enableServiceDiscovery: true,
 * });
 * const asr = comm.createASRClient({ host: 'asr-service', port: 50051 }, ['asr:read']);
 * const reply = await comm.executeServiceCall('asr', () => asr.promises.Transcribe({ audio }));
 * await comm.close();
 * ```
 */
export class ServiceCommunicationManager extends ProductClients {
  readonly #config: ParsedServiceCommunicationConfig;
  readonly #auth: ServiceAuthManager;
  readonly #registry: ServiceRegistry;
  readonly #ownsRegistry: boolean;
  readonly #factory: ClientFactory;
  readonly #events = new Emitter<ServiceCommunicationEvents>();
  /** Per-service settings (endpoint, breaker, retry) and the policies made from them. */
  readonly #policies: ServicePolicySet<NonNullable<ParsedServiceCommunicationConfig['services']>[string]>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #resolver: CloneResolverRegistration | undefined;
  readonly #offRegistry: Unsubscribe;
  readonly #executor: ExecutorEnvironment;
  /** Wakes the calls waiting between two attempts when the manager closes. */
  readonly #retryClock: WakeOnCloseClock;
  readonly #tokens: ServiceTokens;
  readonly #httpClients = new Set<HttpServiceClient>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #telemetry: CallTelemetry | undefined;

  constructor(config: ServiceCommunicationConfig) {
    super();
    const c = parseOptions(serviceCommunicationConfigSchema, config, 'ServiceCommunicationManager');
    this.#config = c;
    this.#clock = c.clock ?? systemClock;
    this.#logger = c.logger ?? noopLogger;
    this.#retryClock = new WakeOnCloseClock(this.#clock);
    this.#auth = new ServiceAuthManager({
      jwtSecret: c.jwtSecret,
      tokenExpirySeconds: c.tokenExpirySeconds,
      logger: this.#logger,
      ...(c.clock === undefined ? {} : { clock: c.clock }),
    });
    this.#policies = new ServicePolicySet(c, c.services ?? {}, {
      clock: this.#clock,
      retryClock: this.#retryClock,
      logger: this.#logger,
      events: this.#events,
    });
    this.#tokens = new ServiceTokens(this.#auth, c);
    // Bare names resolve through this manager's own registration (made just below, once the
    // registry exists: the registry's health checks need the factory's credentials).
    let registration: CloneResolverRegistration | undefined;
    this.#factory = managedClientFactory(
      {
        ...c.client,
        ...(c.enableServiceDiscovery
          ? { resolver: { target: (name: string) => registration!.target(name) } }
          : {}),
        ...(c.clock === undefined ? {} : { clock: c.clock }),
        ...(c.createCorrelationId === undefined ? {} : { createCorrelationId: c.createCorrelationId }),
      },
      () => this.#telemetry,
    );
    this.#ownsRegistry = c.registry === undefined;
    this.#registry =
      c.registry ??
      new ServiceRegistry({
        healthCheckIntervalMs: c.healthCheckIntervalMs,
        logger: this.#logger,
        // Health checks reach the instances the clients call, so they speak the same TLS.
        grpcCredentials: this.#factory.credentials,
        ...(c.discoveryBackend === undefined ? {} : { backend: c.discoveryBackend }),
        ...(c.clock === undefined ? {} : { clock: c.clock }),
      });
    // Each manager resolves bare names through its own registry (its own authority in the
    // target URI), so two managers in one process never see each other's instances.
    registration = c.enableServiceDiscovery ? registerCloneResolver(this.#registry) : undefined;
    this.#resolver = registration;
    this.#offRegistry = this.#registry.on('healthChanged', (e) => {
      if (!this.#events.hasListeners('healthChanged')) return;
      this.#events.emit('healthChanged', {
        service: e.instance.serviceName,
        serviceId: e.instance.serviceId,
        previous: e.previous,
        current: e.current,
        ...(e.error === undefined ? {} : { error: e.error }),
      });
    });
    this.#executor = {
      clock: this.#clock,
      events: this.#events,
      createCorrelationId: c.createCorrelationId,
      closed: () => this.#closed,
      telemetry: () => this.#telemetry,
    };
  }

  /**
   * Installs the tracing hook (`traceCommunication` of `@clone/telemetry` calls it): every
   * `executeServiceCall` then runs inside the span `hook.startCall` returns, and every gRPC call
   * of this manager's clients gets the span `hook.startRpc` returns (its trace context in the
   * call's metadata). One hook at a time; returns its removal.
   */
  useCallTelemetry(hook: CallTelemetry): () => void {
    const given = hook as Partial<CallTelemetry> | null;
    if (
      typeof given?.startCall !== 'function' ||
      (given.startRpc !== undefined && typeof given.startRpc !== 'function')
    )
      throw badRequest(
        `useCallTelemetry: hook must have a startCall function (and startRpc, if any, must be one), got ${formatValue(hook)}`,
        'hook',
      );
    this.#telemetry = hook;
    return () => {
      if (this.#telemetry === hook) this.#telemetry = undefined;
    };
  }

  /**
   * A manager configured from the environment (see `configFromEnv`: `JWT_SECRET`,
   * `ASR_SERVICE_HOST`/`_PORT` …, `CIRCUIT_BREAKER_*`, `RETRY_*`, `HEALTH_CHECK_INTERVAL`,
   * `SERVICE_ID`, `SERVICE_NAME`); `overrides` win over the environment.
   */
  static fromEnv(
    env: Env = process.env,
    overrides: Partial<ServiceCommunicationConfig> = {},
  ): ServiceCommunicationManager {
    return new ServiceCommunicationManager(configFromEnv(env, overrides));
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof ServiceCommunicationEvents>(
    event: K,
    listener: Listener<ServiceCommunicationEvents[K]>,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** The registry services are registered in and discovered from. */
  getServiceRegistry(): ServiceRegistry {
    return this.#registry;
  }

  /** The auth manager signing this service's tokens (and verifying, for a server in the same process). */
  getAuthManager(): ServiceAuthManager {
    return this.#auth;
  }

  /** Starts the registry's periodic health checks (every `healthCheckIntervalMs`; timers unref'd). */
  startHealthChecks(): void {
    this.#registry.startHealthChecks();
  }

  /** Stops the health checks. */
  stopHealthChecks(): void {
    this.#registry.stop();
  }

  /**
   * A typed client of `kind`. `target`: an endpoint (`{ host, port }`, `'host:port'`), or a
   * registered service name resolved through this manager's registry; default the endpoint
   * configured for `kind` (`services.asr.endpoint`, `ASR_SERVICE_HOST`), else discovery by
   * `kind`. Every call carries a token with `permissions` (default `['<kind>:read']`) for the
   * callee (`aud`, see {@link ManagerClientOptions.audience}), a correlation id and a deadline.
   */
  createClient<K extends ServiceKind>(
    kind: K,
    target?: ClientTarget,
    permissions: readonly string[] = CLIENT_PERMISSIONS[kind],
    options: ManagerClientOptions = {},
  ): ServiceClient<K> {
    this.#assertOpen();
    if (!Object.hasOwn(CLIENT_PERMISSIONS, kind)) {
      throw badRequest(
        `createClient: kind must be one of ${Object.keys(CLIENT_PERMISSIONS).join(', ')}, got ${JSON.stringify(kind)}`,
        'kind',
      );
    }
    const resolved = target ?? this.#policies.settingsOf(kind)?.endpoint ?? kind;
    const serviceName = typeof resolved === 'string' && !/[:/]/.test(resolved) ? resolved : undefined;
    if (serviceName !== undefined && this.#resolver === undefined) {
      throw badRequest(
        `createClient: '${serviceName}' is a service name but service discovery is disabled; give an endpoint`,
        'endpoint',
      );
    }
    const token = this.#tokens.get(permissions, options.audience ?? serviceName ?? kind);
    return this.#factory.create(kind, resolved, {
      serviceName: kind,
      token,
      ...(options.interceptors === undefined ? {} : { interceptors: options.interceptors }),
    });
  }

  /**
   * An HTTP/JSON client of `serviceName` (a `ServiceClient` of `@clone/http-client`) that shares
   * the service's circuit breaker, retry policy, retry budget and timeout with its gRPC calls
   * (`executeServiceCall`), the token its gRPC clients send (same permissions and audience), and
   * this manager's registry for discovery (or `options.baseUrl`). Requests carry the correlation
   * id and deadline of the current call context, as gRPC calls do. Closed with the manager.
   */
  createHttpClient(serviceName: string, options: ManagerHttpClientOptions = {}): HttpServiceClient {
    this.#assertOpen();
    if (typeof serviceName !== 'string' || serviceName === '') {
      throw badRequest(
        `createHttpClient: serviceName must be a non-empty string, got ${JSON.stringify(serviceName)}`,
        'serviceName',
      );
    }
    const client = makeHttpClient(serviceName, options, {
      policies: this.#policies.get(serviceName),
      registry: this.#registry,
      token: (permissions, audience) => this.#tokens.get(permissions, audience),
      defaultPermissions: (name) =>
        Object.hasOwn(CLIENT_PERMISSIONS, name) ? CLIENT_PERMISSIONS[name as ServiceKind] : [`${name}:read`],
      callerName: this.#config.serviceName,
      clock: this.#clock,
      logger: this.#logger,
    });
    this.#httpClients.add(client);
    return client;
  }

  /**
   * Runs `fn` under the retry policy, circuit breaker and timeout of `serviceName` (made on
   * first use from the defaults, the manager-wide and the per-service settings). Errors come
   * out as ServiceError: gRPC UNAVAILABLE as a retryable SERVICE_UNAVAILABLE, an open circuit as
   * CIRCUIT_OPEN at once without calling `fn`. Only idempotent work is retried (see
   * `options.idempotent`); INVALID_ARGUMENT and NOT_FOUND answers never count against the breaker.
   */
  executeServiceCall<T>(
    serviceName: string,
    fn: (context: ExecuteContext) => PromiseLike<T> | T,
    options: ServiceCallOptions = {},
  ): Promise<T> {
    try {
      this.#assertOpen();
      // Bad arguments are the caller's bug: reject before any breaker counts them as an outage.
      checkCallArguments(serviceName, fn, options);
      if (this.#config.refuseUnhealthy) this.#refuseIfUnhealthy(serviceName);
    } catch (error) {
      return Promise.reject(error);
    }
    return executeCall(this.#policies.get(serviceName), serviceName, fn, options, this.#executor);
  }

  /**
   * Replaces the breaker and retry settings of one service (merged over the manager-wide
   * ones); its current breaker state is dropped. A bad setting throws BAD_REQUEST naming it
   * and changes nothing.
   */
  configureService(
    serviceName: string,
    settings: { circuitBreaker?: CircuitBreakerOptions; retry?: RetryOptions },
  ): void {
    const checked = parseOptions(
      serviceSettingsSchema,
      settings,
      `configureService(${JSON.stringify(serviceName)})`,
    );
    this.#policies.configure(serviceName, checked);
  }

  /** The circuit breaker of `serviceName` (created on first use). */
  getCircuitBreaker(serviceName: string): CircuitBreaker {
    return this.#policies.get(serviceName).breaker;
  }

  /** The retry policy of `serviceName` (created on first use). */
  getRetryPolicy(serviceName: string): RetryPolicy {
    return this.#policies.get(serviceName).retry;
  }

  /** The breaker stats of every service called so far (a null-prototype record: any name is a key). */
  getCircuitStats(): Record<string, ReturnType<CircuitBreaker['getStats']>> {
    return this.#policies.circuitStats();
  }

  /**
   * Cancels every call in flight at once (they reject with CANCELLED), closes every channel
   * (later calls of this manager's clients reject with a ServiceError), stops the health checks,
   * detaches this manager's resolver and closes the registry it made (withdrawing what was
   * registered through it). Afterwards no handle of this manager is left open; other managers
   * in the process are untouched.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      this.#offRegistry();
      // Calls in flight end with CANCELLED; calls waiting to retry wake and find the manager closed.
      this.#factory.close();
      this.#retryClock.wakeAll();
      await Promise.all([...this.#httpClients].map((c) => c.close()));
      this.#resolver?.close();
      this.#policies.close();
      if (this.#ownsRegistry) await this.#registry.close();
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  /** `await using comm = new ServiceCommunicationManager(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #refuseIfUnhealthy(serviceName: string): void {
    if (this.#registry.getInstances(serviceName).length === 0) return;
    if (this.#registry.getHealthyInstances(serviceName).length > 0) return;
    throw new ServiceError(
      ServiceErrorCode.SERVICE_UNAVAILABLE,
      `No healthy instance of '${serviceName}'`,
      serviceName,
      { retryable: true },
    );
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ServiceError(
        ServiceErrorCode.SERVICE_UNAVAILABLE,
        'ServiceCommunicationManager is closed',
        undefined,
        { retryable: false },
      );
    }
  }
}
