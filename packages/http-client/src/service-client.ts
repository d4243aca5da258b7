import {
  CircuitBreaker,
  type CircuitBreakerEvents,
  type CircuitState,
  type Clock,
  type ComposedPolicy,
  compose,
  isServiceError,
  type Logger,
  noopLogger,
  parseOptions,
  RetryBudget,
  RetryPolicy,
  rootContext,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  Timeout,
  type Unsubscribe,
} from '@clone/service-errors';
import { Agent } from 'undici';
import { type CallEnvironment, HttpCall } from './http-call';
import { type PreparedRequest, prepareRequest, type RequestDefaults } from './prepare-request';
import { callContextStorage, SERVICE_NAME_HEADER } from './propagation-headers';
import {
  DEFAULT_TIMEOUT_MS,
  type ParsedServiceClientOptions,
  type RequestOptions,
  type ServiceClientOptions,
  serviceClientOptionsSchema,
} from './service-client-options';
import { parseBaseUrl } from './target';

/** What `onCircuitEvent` listeners hear. */
export interface CircuitEvents {
  /** The circuit changed state: the listener gets the new state, then the whole change. */
  'circuit:state_changed': [
    state: `${CircuitState}`,
    change: CircuitBreakerEvents['stateChange'] & { service: string },
  ];
  /** A request was refused without being sent: the circuit is open. */
  'circuit:rejected': [error: ServiceError];
}

/** The message of every open-circuit rejection of a ServiceClient, as the design documents test it. */
export const CIRCUIT_OPEN_MESSAGE = 'Circuit breaker is OPEN';

const NO_SIGNAL = rootContext(undefined).signal;

/** The options of a request given none: shared, never written. */
const NO_OPTIONS: RequestOptions = Object.freeze({});

function badRequest(message: string, field: string, service?: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, service, {
    retryable: false,
    metadata: { field },
  });
}

/**
 * An HTTP/JSON client of one service: instances from discovery (or a fixed `baseUrl`), a
 * keep-alive undici pool of its own, and the same policies as a gRPC client — retry (within a
 * retry budget) → circuit breaker → timeout. Every request carries the correlation id of the
 * current context (the one gRPC uses), the time left before the deadline, `X-Service-Name` and
 * a service token. Only requests that may be repeated are retried (idempotent methods, or an
 * `Idempotency-Key`); `Retry-After` and 429/503 are honoured within the deadline. Answers of
 * 400 and more reject with a ServiceError by the shared HTTP status map.
 *
 * ```ts
 * const access = new ServiceClient({ serviceName: 'access-service', discovery, logger,
 *   circuitBreaker: { failureThreshold: 5, resetTimeout: 60000 }, retryPolicy: { maxRetries: 3, initialDelay: 1000 } });
 * const doors = await access.get<Door[]>('/api/doors');
 * await access.close();
 * ```
 */
export class ServiceClient {
  /** The callee's name. */
  readonly serviceName: string;
  readonly #env: CallEnvironment;
  readonly #breaker: CircuitBreaker;
  readonly #retry: RetryPolicy;
  /** retry → breaker → timeout: requests that may be repeated. */
  readonly #retrying: ComposedPolicy;
  /** breaker → timeout: requests that must not be sent twice. */
  readonly #once: ComposedPolicy;
  readonly #defaults: RequestDefaults;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #offs: Unsubscribe[] = [];
  #closed = false;

  constructor(options: ServiceClientOptions) {
    const o = parseOptions(serviceClientOptionsSchema, options, 'ServiceClient');
    const owner = `ServiceClient(${o.serviceName})`;
    if (o.discovery !== undefined && o.baseUrl !== undefined) {
      throw badRequest(`${owner}: give discovery or baseUrl, not both`, 'discovery');
    }
    const fixed = o.discovery === undefined ? fixedTarget(o.serviceName, o.baseUrl, owner) : undefined;
    if (o.policies !== undefined) {
      for (const field of ['circuitBreaker', 'retryPolicy', 'retryBudget'] as const) {
        if (o[field] !== undefined)
          throw badRequest(`${owner}: ${field} cannot be combined with policies`, field);
      }
    }
    this.serviceName = o.serviceName;
    this.#clock = o.clock ?? systemClock;
    this.#logger = o.logger ?? noopLogger;
    const { circuitBreaker, retry, timeout } = o.policies ?? this.#ownPolicies(o);
    this.#breaker = circuitBreaker;
    this.#retry = retry;
    this.#retrying = compose({ retry, circuitBreaker, timeout });
    this.#once = compose({ circuitBreaker, timeout });
    const headers: Record<string, string> = {
      ...(o.callerName === undefined ? {} : { [SERVICE_NAME_HEADER]: o.callerName }),
      ...lowerCaseKeys(o.headers),
    };
    this.#defaults = {
      serviceName: o.serviceName,
      headers: Object.entries(headers).flat(),
      maxResponseBytes: o.maxResponseBytes,
      autoIdempotencyKey: o.autoIdempotencyKey,
      createCorrelationId: o.createCorrelationId,
    };
    this.#env = {
      serviceName: o.serviceName,
      agent: new Agent({
        keepAliveTimeout: o.keepAliveTimeoutMs,
        ...(o.connections === undefined ? {} : { connections: o.connections }),
      }),
      clock: this.#clock,
      fixed,
      discovery: o.discovery,
      auth: o.auth,
    };
  }

  #ownPolicies(o: ParsedServiceClientOptions) {
    const base = { service: o.serviceName, clock: this.#clock, logger: this.#logger };
    const b = o.circuitBreaker ?? {};
    const circuitBreaker = new CircuitBreaker({
      ...base,
      ...(b.failureThreshold === undefined ? {} : { failureThreshold: b.failureThreshold }),
      ...(b.successThreshold === undefined ? {} : { successThreshold: b.successThreshold }),
      ...(b.resetTimeout === undefined ? {} : { resetTimeoutMs: b.resetTimeout }),
    });
    const timeout = new Timeout({
      timeoutMs: b.timeout ?? DEFAULT_TIMEOUT_MS,
      service: o.serviceName,
      clock: this.#clock,
    });
    const r = o.retryPolicy ?? {};
    const budget =
      // A budget is told by its methods, not instanceof: one from another copy of the package
      // is then refused by RetryPolicy by name instead of silently becoming options.
      typeof (o.retryBudget as RetryBudget | undefined)?.tryRetry === 'function'
        ? (o.retryBudget as RetryBudget)
        : new RetryBudget({ clock: this.#clock, ...(o.retryBudget as object | undefined) });
    const retry = new RetryPolicy({
      ...base,
      maxAttempts: (r.maxRetries ?? 2) + 1,
      ...(r.initialDelay === undefined ? {} : { initialDelayMs: r.initialDelay }),
      ...(r.maxDelay === undefined ? {} : { maxDelayMs: r.maxDelay }),
      ...(o.random === undefined ? {} : { random: o.random }),
      budget,
    });
    return { circuitBreaker, retry, timeout };
  }

  /** GET `path`; resolves to the parsed body. */
  get<T = unknown>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, options);
  }

  /** POST `body` (JSON unless bytes, a string or a stream) to `path`; resolves to the parsed body. */
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body, options);
  }

  /** PUT `body` to `path`; resolves to the parsed body. */
  put<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, body, options);
  }

  /** PATCH `body` to `path`; resolves to the parsed body. */
  patch<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, body, options);
  }

  /** DELETE `path`; resolves to the parsed body (undefined when empty). */
  delete<T = unknown>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, undefined, options);
  }

  /**
   * Sends one request through the client's policies. Rejects with BAD_REQUEST naming the field
   * for a bad path or option before anything is sent, CIRCUIT_OPEN ("Circuit breaker is OPEN")
   * while the circuit is open, else the ServiceError of the last attempt.
   */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = NO_OPTIONS,
  ): Promise<T> {
    let prepared: PreparedRequest;
    let deadline: number;
    try {
      if (this.#closed) {
        throw new ServiceError(
          ServiceErrorCode.SERVICE_UNAVAILABLE,
          `ServiceClient(${this.serviceName}) is closed`,
          this.serviceName,
          {
            retryable: false,
          },
        );
      }
      // One read of the call context for both the correlation id and the inbound deadline.
      const context = callContextStorage.getStore();
      prepared = prepareRequest(method, path, body, options, this.#defaults, context?.correlationId);
      deadline = this.#deadline(options, context?.deadline);
    } catch (error) {
      return Promise.reject(error);
    }
    // A bound method rather than a closure: no per-call function name to set (see contributing).
    const call = new HttpCall<T>(this.#env, prepared);
    const op = call.attempt.bind(call);
    const policy = prepared.retrySafe ? this.#retrying : this.#once;
    const signal = options.signal;
    const result =
      deadline === Number.POSITIVE_INFINITY && signal === undefined
        ? policy.execute(op)
        : policy.run(op, { signal: signal ?? NO_SIGNAL, attempt: 1, deadline });
    return result.then(undefined, this.#failed);
  }

  /** Rewords an open-circuit rejection as the design documents expect it; passes every other error. */
  readonly #failed = (error: unknown): never => {
    if (
      isServiceError(error) &&
      error.code === ServiceErrorCode.CIRCUIT_OPEN &&
      error.message !== CIRCUIT_OPEN_MESSAGE
    ) {
      throw new ServiceError(ServiceErrorCode.CIRCUIT_OPEN, CIRCUIT_OPEN_MESSAGE, this.serviceName, {
        retryable: false,
        retryAfterMs: error.retryAfterMs,
        metadata: { ...error.metadata, detail: error.message },
        cause: error,
      });
    }
    throw error;
  };

  /** The earliest of the call's own bound and the deadline of the request being served. */
  #deadline(options: RequestOptions, inbound: number | undefined): number {
    let deadline = inbound ?? Number.POSITIVE_INFINITY;
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined) {
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2_147_483_647) {
        throw badRequest(
          `timeoutMs must be an integer between 1 and 2147483647, got ${String(timeoutMs)}`,
          'timeoutMs',
          this.serviceName,
        );
      }
      deadline = Math.min(deadline, this.#clock.now() + timeoutMs);
    }
    return deadline;
  }

  /**
   * Listens to the circuit: `circuit:state_changed` gets the new state (`'OPEN'`…) and the
   * change, `circuit:rejected` each refused request's error. Returns the unsubscribe function.
   */
  onCircuitEvent<K extends keyof CircuitEvents>(
    event: K,
    listener: (...args: CircuitEvents[K]) => void,
  ): Unsubscribe {
    let off: Unsubscribe;
    if (event === 'circuit:state_changed') {
      const fn = listener as (...args: CircuitEvents['circuit:state_changed']) => void;
      off = this.#breaker.on('stateChange', (e) => fn(e.to, { ...e, service: this.serviceName }));
    } else if (event === 'circuit:rejected') {
      const fn = listener as (...args: CircuitEvents['circuit:rejected']) => void;
      off = this.#breaker.on('rejected', (e) => fn(e.error));
    } else {
      throw badRequest(`onCircuitEvent: unknown event ${JSON.stringify(event)}`, 'event', this.serviceName);
    }
    this.#offs.push(off);
    return off;
  }

  /** The circuit's state: `'CLOSED'`, `'OPEN'` or `'HALF_OPEN'`. */
  getCircuitState(): `${CircuitState}` {
    return this.#breaker.state;
  }

  /** The circuit breaker (shared with the callee's other clients when made by the facade). */
  getCircuitBreaker(): CircuitBreaker {
    return this.#breaker;
  }

  /** The retry policy (its events tell each retry and why retries stopped, `budget` included). */
  getRetryPolicy(): RetryPolicy {
    return this.#retry;
  }

  /**
   * Closes the pool once the requests in flight have ended, and drops the circuit listeners
   * added here. Later requests reject with SERVICE_UNAVAILABLE.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs.splice(0)) off();
    await this.#env.agent.close();
  }

  /** `await using client = new ServiceClient(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/**
 * The target of a client without discovery: `baseUrl`, else the service name as a host name
 * on port 80 (`http://external-service`), as Docker and Kubernetes networks resolve it.
 */
function fixedTarget(serviceName: string, baseUrl: string | undefined, owner: string) {
  if (baseUrl !== undefined) return parseBaseUrl(baseUrl, owner);
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(serviceName)) {
    throw badRequest(
      `${owner}: serviceName ${JSON.stringify(serviceName)} is not a host name, as it must be without discovery or baseUrl`,
      'serviceName',
    );
  }
  return parseBaseUrl(`http://${serviceName}`, owner);
}
