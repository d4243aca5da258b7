import { ServiceAuthManager } from '@clone/service-auth';
import { registerCloneResolver, ServiceRegistry } from '@clone/service-discovery';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type Clock,
  Emitter,
  type Env,
  type ExecuteContext,
  type Listener,
  type Logger,
  noopLogger,
  parseOptions,
  type RetryDecision,
  type RetryOptions,
  RetryPolicy,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import type { Interceptor } from '@grpc/grpc-js';
import { type AttemptRecord, currentCallContext, newCorrelationId, runInCallContext } from './call-context';
import { ClientFactory, type ClientTarget } from './client-factory';
import {
  configFromEnv,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_RETRY,
  type ParsedServiceCommunicationConfig,
  type ServiceCommunicationConfig,
  serviceCommunicationConfigSchema,
} from './config';
import type { ServiceCommunicationEvents } from './events';
import type { ServiceKind } from './protos';
import type {
  ASRClient,
  LipSyncClient,
  LLMClient,
  RAGClient,
  ServiceClient,
  TTSClient,
} from './typed-client';

/** Options of one {@link ServiceCommunicationManager.executeServiceCall}. */
export interface ServiceCallOptions {
  /** Cancels the call, its pending retries included; it rejects with CANCELLED (or the reason). */
  signal?: AbortSignal | undefined;
  /**
   * Whether the call may be repeated. Default: decided by the protos of the gRPC methods `fn`
   * calls through this package's clients (all NO_SIDE_EFFECTS / IDEMPOTENT: retried; any other:
   * not), and retried by error alone when `fn` makes no such call.
   */
  idempotent?: boolean | undefined;
  /** The correlation id of this call; default the current context's, else a new one. */
  correlationId?: string | undefined;
}

/** Per-client options of {@link ServiceCommunicationManager.createClient}. */
export interface ManagerClientOptions {
  /** The callee's name in the token's `aud`, for servers that require an audience. */
  audience?: string | undefined;
  /** Interceptors of this client, run before the manager's. */
  interceptors?: readonly Interceptor[] | undefined;
}

interface ServicePolicies {
  breaker: CircuitBreaker;
  retry: RetryPolicy;
  /** The breaker's `timeout`: the time one attempt may take, in ms (Infinity: none). */
  attemptTimeoutMs: number;
  offs: Unsubscribe[];
}

function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Thrown values an attempt marked as not to be repeated (a non-idempotent method failed). */
const doNotRetry = new WeakSet<object>();

const CLIENT_PERMISSIONS: Readonly<Record<ServiceKind, readonly string[]>> = {
  asr: ['asr:read'],
  llm: ['llm:read'],
  rag: ['rag:read'],
  tts: ['tts:read'],
  lipsync: ['lipsync:read'],
};

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
export class ServiceCommunicationManager {
  readonly #config: ParsedServiceCommunicationConfig;
  readonly #auth: ServiceAuthManager;
  readonly #registry: ServiceRegistry;
  readonly #ownsRegistry: boolean;
  readonly #factory: ClientFactory;
  readonly #events = new Emitter<ServiceCommunicationEvents>();
  readonly #policies = new Map<string, ServicePolicies>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #detachResolver: (() => void) | undefined;
  readonly #offRegistry: Unsubscribe;
  #closing: Promise<void> | undefined;

  constructor(config: ServiceCommunicationConfig) {
    const c = parseOptions(serviceCommunicationConfigSchema, config, 'ServiceCommunicationManager');
    this.#config = c;
    this.#clock = c.clock ?? systemClock;
    this.#logger = c.logger ?? noopLogger;
    this.#auth = new ServiceAuthManager({
      jwtSecret: c.jwtSecret,
      tokenExpirySeconds: c.tokenExpirySeconds,
      logger: this.#logger,
      ...(c.clock === undefined ? {} : { clock: c.clock }),
    });
    // Fail now on a bad breaker or retry setting, not on the first call to some service.
    for (const name of ['(defaults)', ...Object.keys(c.services ?? {})]) {
      for (const off of this.#makePolicies(name).offs) off();
    }
    this.#factory = new ClientFactory(c.client ?? {});
    this.#ownsRegistry = c.registry === undefined;
    this.#registry =
      c.registry ??
      new ServiceRegistry({
        healthCheckIntervalMs: c.healthCheckIntervalMs,
        logger: this.#logger,
        ...(c.discoveryBackend === undefined ? {} : { backend: c.discoveryBackend }),
        ...(c.clock === undefined ? {} : { clock: c.clock }),
      });
    this.#detachResolver = c.enableServiceDiscovery ? registerCloneResolver(this.#registry) : undefined;
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

  /** A client of `asr.ASRService`; `endpoint` default: the configured one, else discovery. */
  createASRClient(endpoint?: ClientTarget, permissions?: readonly string[]): ASRClient {
    return this.createClient('asr', endpoint, permissions);
  }

  /** A client of `llm.LLMService`. */
  createLLMClient(endpoint?: ClientTarget, permissions?: readonly string[]): LLMClient {
    return this.createClient('llm', endpoint, permissions);
  }

  /** A client of `rag.RAGService`. */
  createRAGClient(endpoint?: ClientTarget, permissions?: readonly string[]): RAGClient {
    return this.createClient('rag', endpoint, permissions);
  }

  /** A client of `tts.TTSService`. */
  createTTSClient(endpoint?: ClientTarget, permissions?: readonly string[]): TTSClient {
    return this.createClient('tts', endpoint, permissions);
  }

  /** A client of `lipsync.LipSyncService`. */
  createLipSyncClient(endpoint?: ClientTarget, permissions?: readonly string[]): LipSyncClient {
    return this.createClient('lipsync', endpoint, permissions);
  }

  /**
   * A typed client of `kind`. `target`: an endpoint (`{ host, port }`, `'host:port'`), or a
   * registered service name resolved through discovery; default the endpoint configured for
   * `kind` (`services.asr.endpoint`, `ASR_SERVICE_HOST`), else discovery by `kind`. Every call
   * carries a token with `permissions` (default `['<kind>:read']`), a correlation id and a deadline.
   */
  createClient<K extends ServiceKind>(
    kind: K,
    target?: ClientTarget,
    permissions: readonly string[] = CLIENT_PERMISSIONS[kind],
    options: ManagerClientOptions = {},
  ): ServiceClient<K> {
    this.#assertOpen();
    if (!Object.hasOwn(CLIENT_PERMISSIONS, kind)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `createClient: kind must be one of ${Object.keys(CLIENT_PERMISSIONS).join(', ')}, got ${JSON.stringify(kind)}`,
        undefined,
        { retryable: false, metadata: { field: 'kind' } },
      );
    }
    const resolved = target ?? this.#config.services?.[kind]?.endpoint ?? kind;
    if (typeof resolved === 'string' && !this.#config.enableServiceDiscovery && !/[:/]/.test(resolved)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `createClient: '${resolved}' is a service name but service discovery is disabled; give an endpoint`,
        undefined,
        { retryable: false, metadata: { field: 'endpoint' } },
      );
    }
    const token = this.#auth.createTokenProvider({
      serviceId: this.#config.serviceId,
      serviceName: this.#config.serviceName,
      permissions,
      ...(options.audience === undefined ? {} : { audience: options.audience }),
    });
    return this.#factory.create(kind, resolved, {
      serviceName: kind,
      token,
      ...(options.interceptors === undefined ? {} : { interceptors: options.interceptors }),
    });
  }

  /**
   * Runs `fn` under the breaker and retry policy of `serviceName` (made on first use from the
   * defaults, the manager-wide and the per-service settings). Errors come out as ServiceError:
   * gRPC UNAVAILABLE as a retryable SERVICE_UNAVAILABLE, an open circuit as CIRCUIT_OPEN at
   * once without calling `fn`. Only idempotent work is retried (see `options.idempotent`);
   * INVALID_ARGUMENT and NOT_FOUND answers never count against the breaker.
   */
  executeServiceCall<T>(
    serviceName: string,
    fn: (context: ExecuteContext) => PromiseLike<T> | T,
    options: ServiceCallOptions = {},
  ): Promise<T> {
    try {
      this.#assertOpen();
      // Bad arguments are the caller's bug: reject before any breaker counts them as an outage.
      if (typeof serviceName !== 'string' || serviceName.trim() === '') {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          `executeServiceCall: serviceName must be a non-empty string, got ${JSON.stringify(serviceName)}`,
          undefined,
          { retryable: false, metadata: { field: 'serviceName' } },
        );
      }
      if (typeof fn !== 'function') {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          `executeServiceCall: fn must be a function, got ${typeof fn}`,
          serviceName,
          { retryable: false, metadata: { field: 'fn' } },
        );
      }
      if (this.#config.refuseUnhealthy) this.#refuseIfUnhealthy(serviceName);
    } catch (error) {
      return Promise.reject(error);
    }
    const policies = this.#policiesFor(serviceName);
    const outer = currentCallContext();
    const correlationId = options.correlationId ?? outer?.correlationId ?? newCorrelationId();
    const inbound = outer?.deadline;
    const idempotent = options.idempotent;
    let attempts = 0;
    // Plain functions and one `.then` rather than async/await: this runs on every call, and each
    // promise costs more while AsyncLocalStorage is tracking them.
    const timeoutMs = policies.attemptTimeoutMs;
    const attempt = (ctx: ExecuteContext): PromiseLike<T> | T => {
      attempts = ctx.attempt;
      const deadline = timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : Date.now() + timeoutMs;
      const record: AttemptRecord = { calls: 0, nonIdempotent: false, deadline };
      const failed = (raw: unknown): never => {
        const error = ServiceError.from(raw, serviceName);
        if (idempotent === false || (idempotent === undefined && record.nonIdempotent)) doNotRetry.add(error);
        throw error;
      };
      return runInCallContext({ correlationId, attempt: record, deadline: inbound }, () => {
        let result: PromiseLike<T> | T;
        try {
          result = fn(ctx);
        } catch (raw) {
          return failed(raw);
        }
        if (!isThenable(result)) return result;
        // gRPC calls started by fn carry the attempt's deadline and end themselves (on both
        // sides) when it passes; anything else is timed out here.
        const guarded =
          record.calls > 0 || deadline === Number.POSITIVE_INFINITY
            ? result
            : this.#withTimeout(result, timeoutMs, serviceName);
        return guarded.then(undefined, failed);
      });
    };
    const run = policies.retry.execute((ctx) => policies.breaker.run(attempt, ctx), options.signal);
    const timed = this.#events.hasListeners('callSucceeded') || this.#events.hasListeners('callFailed');
    if (!timed)
      return run.then(undefined, (raw: unknown) => Promise.reject(ServiceError.from(raw, serviceName)));
    const start = this.#clock.now();
    return run.then(
      (value) => {
        this.#events.emit('callSucceeded', {
          service: serviceName,
          durationMs: this.#clock.now() - start,
          attempts,
        });
        return value;
      },
      (raw: unknown) => {
        const error = ServiceError.from(raw, serviceName);
        this.#events.emit('callFailed', {
          service: serviceName,
          durationMs: this.#clock.now() - start,
          attempts: Math.max(attempts, 1),
          error,
        });
        throw error;
      },
    );
  }

  /**
   * Replaces the breaker and retry settings of one service (merged over the manager-wide
   * ones); its current breaker state is dropped.
   */
  configureService(
    serviceName: string,
    settings: { circuitBreaker?: CircuitBreakerOptions; retry?: RetryOptions },
  ): void {
    this.#config.services ??= {};
    const services = this.#config.services;
    services[serviceName] = { ...services[serviceName], ...settings };
    const old = this.#policies.get(serviceName);
    const created = this.#makePolicies(serviceName);
    for (const off of old?.offs ?? []) off();
    this.#policies.set(serviceName, created);
  }

  /** The circuit breaker of `serviceName` (created on first use). */
  getCircuitBreaker(serviceName: string): CircuitBreaker {
    return this.#policiesFor(serviceName).breaker;
  }

  /** The retry policy of `serviceName` (created on first use). */
  getRetryPolicy(serviceName: string): RetryPolicy {
    return this.#policiesFor(serviceName).retry;
  }

  /** The breaker stats of every service called so far. */
  getCircuitStats(): Record<string, ReturnType<CircuitBreaker['getStats']>> {
    const stats: Record<string, ReturnType<CircuitBreaker['getStats']>> = {};
    for (const [name, p] of this.#policies) stats[name] = p.breaker.getStats();
    return stats;
  }

  /**
   * Closes every channel, stops the health checks and closes the registry it made (withdrawing
   * what was registered through it). Afterwards no handle of this manager is left open.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#detachResolver?.();
      this.#offRegistry();
      this.#factory.close();
      for (const p of this.#policies.values()) for (const off of p.offs) off();
      if (this.#ownsRegistry) await this.#registry.close();
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  /** `await using comm = new ServiceCommunicationManager(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #policiesFor(serviceName: string): ServicePolicies {
    let p = this.#policies.get(serviceName);
    if (p === undefined) {
      p = this.#makePolicies(serviceName);
      this.#policies.set(serviceName, p);
    }
    return p;
  }

  #makePolicies(serviceName: string): ServicePolicies {
    const c = this.#config;
    const own = c.services?.[serviceName];
    const shared = { service: serviceName, clock: this.#clock, logger: this.#logger };
    const { timeout, ...breakerOptions } = {
      ...DEFAULT_CIRCUIT_BREAKER,
      ...c.circuitBreaker,
      ...own?.circuitBreaker,
    } as CircuitBreakerOptions;
    if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 1)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `ServiceCommunicationManager: circuitBreaker.timeout must be an integer of at least 1, got ${String(timeout)}`,
        undefined,
        { retryable: false, metadata: { field: 'circuitBreaker.timeout' } },
      );
    }
    // The breaker's timeout becomes the deadline of the attempt's gRPC calls (see attempt()):
    // a deadline ends the call on both sides, where a timer would abandon it still running.
    const breaker = new CircuitBreaker({ ...breakerOptions, ...shared });
    const retryOptions: RetryOptions = { ...DEFAULT_RETRY, ...c.retry, ...own?.retry };
    const userShouldRetry = retryOptions.shouldRetry;
    // A non-idempotent attempt is never repeated, whatever else the settings say.
    const shouldRetry = (error: ServiceError, decision: RetryDecision): boolean =>
      !doNotRetry.has(error) &&
      (userShouldRetry === undefined ? decision.retryable : userShouldRetry(error, decision));
    const retry = new RetryPolicy({ ...retryOptions, shouldRetry, ...shared });
    const offs = [
      breaker.on('stateChange', (e) =>
        this.#events.emit('circuitStateChange', { service: serviceName, ...e }),
      ),
      breaker.on('rejected', (e) =>
        this.#events.emit('circuitRejected', { service: serviceName, error: e.error }),
      ),
      retry.on('retry', (e) => this.#events.emit('retry', { service: serviceName, ...e })),
    ];
    return { breaker, retry, attemptTimeoutMs: timeout ?? Number.POSITIVE_INFINITY, offs };
  }

  /** Rejects with TIMEOUT when `promise` has not settled after `ms` (for attempts without gRPC calls). */
  #withTimeout<T>(promise: PromiseLike<T>, ms: number, serviceName: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        reject(
          new ServiceError(
            ServiceErrorCode.TIMEOUT,
            `Call to ${serviceName} timed out after ${ms} ms`,
            serviceName,
            {
              retryable: true,
              metadata: { timeoutMs: ms },
            },
          ),
        );
      }, ms);
      promise.then(
        (value) => {
          this.#clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.#clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
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
    if (this.#closing !== undefined) {
      throw new ServiceError(
        ServiceErrorCode.SERVICE_UNAVAILABLE,
        'ServiceCommunicationManager is closed',
        undefined,
        {
          retryable: false,
        },
      );
    }
  }
}
