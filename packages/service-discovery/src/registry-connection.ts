import {
  backoffDelay,
  httpStatusToError,
  isServiceErrorCode,
  ServiceError,
  ServiceErrorCode,
  type TimerHandle,
} from '@clone/service-errors';
import { Agent } from 'undici';
import type { ParsedDiscoveryClientOptions } from './discovery-client-options';

/** What a {@link RegistryConnection} tells its owner. */
export interface ConnectionListener {
  /** The registry answered after having been unreachable. */
  reconnected(): void;
  /** The registry stopped answering (network error, 502/503/504). */
  disconnected(error: ServiceError): void;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

const SOURCE = 'service-registry';

/**
 * The client's one path to the registry HTTP API: keep-alive connections (an undici `Agent`),
 * JSON in and out, answers unwrapped from `{ success, data }`, error bodies turned back into
 * ServiceErrors. It also knows whether the registry is reachable: the first failure to reach
 * it reports `disconnected` and starts probing with backoff; the first answer after reports
 * `reconnected`.
 */
export class RegistryConnection {
  readonly #o: ParsedDiscoveryClientOptions;
  readonly #listener: ConnectionListener;
  readonly #agent: Agent;
  readonly #origin: string;
  readonly #base: string;
  readonly #abort = new AbortController();
  /** undefined until the first answer or failure. */
  #reachable: boolean | undefined;
  #probeAttempt = 0;
  #probeDelay = 0;
  #probeTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: ParsedDiscoveryClientOptions, listener: ConnectionListener) {
    this.#o = options;
    this.#listener = listener;
    const url = new URL(options.registryUrl);
    this.#origin = url.origin;
    this.#base = `${url.pathname.replace(/\/+$/, '')}${options.prefix}`;
    this.#agent = new Agent({
      connections: options.connections,
      connect: { timeout: options.requestTimeoutMs },
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
  }

  /** Whether the last request reached the registry (undefined before the first one). */
  get reachable(): boolean | undefined {
    return this.#reachable;
  }

  /** Where the API is, for messages. */
  get url(): string {
    return `${this.#origin}${this.#base}`;
  }

  /**
   * Calls the API: `path` is under the prefix. Resolves to the answer's `data`; rejects with
   * SERVICE_UNAVAILABLE (retryable) when the registry cannot be reached, or the ServiceError the
   * registry answered with.
   */
  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    if (this.#closed) {
      throw new ServiceError(
        ServiceErrorCode.SERVICE_UNAVAILABLE,
        'service discovery client is closed',
        SOURCE,
        {
          retryable: false,
        },
      );
    }
    const headers: Record<string, string> = { ...this.#o.headers?.(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let statusCode: number;
    let text: string;
    try {
      const response = await this.#agent.request({
        origin: this.#origin,
        path: `${this.#base}${path}`,
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: this.#abort.signal,
      });
      statusCode = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      const lost = new ServiceError(
        ServiceErrorCode.SERVICE_UNAVAILABLE,
        `service registry unreachable at ${this.url}: ${(error as Error)?.message ?? String(error)}`,
        SOURCE,
        { retryable: true, cause: error },
      );
      this.#lost(lost);
      throw lost;
    }
    if (statusCode >= 200 && statusCode < 300) {
      this.#answered();
      const parsed = parseJson(text);
      return (parsed as { data?: T } | undefined)?.data as T;
    }
    const error = answerError(statusCode, text, `${method} ${this.#base}${path}`);
    if (statusCode === 502 || statusCode === 503 || statusCode === 504) this.#lost(error);
    else this.#answered();
    throw error;
  }

  /** Stops probing, aborts requests in flight and closes the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#probeTimer !== undefined) this.#o.clock.clearTimeout(this.#probeTimer);
    this.#abort.abort();
    await this.#agent.close().catch(() => this.#agent.destroy());
  }

  #answered(): void {
    const was = this.#reachable;
    this.#reachable = true;
    if (this.#probeTimer !== undefined) {
      this.#o.clock.clearTimeout(this.#probeTimer);
      this.#probeTimer = undefined;
    }
    this.#probeAttempt = 0;
    this.#probeDelay = 0;
    if (was === false) this.#listener.reconnected();
  }

  #lost(error: ServiceError): void {
    if (this.#closed) return;
    const was = this.#reachable;
    this.#reachable = false;
    if (was !== false) {
      this.#o.logger.warn('service discovery: registry unreachable', {
        registry: this.url,
        error: error.message,
      });
      this.#listener.disconnected(error);
    }
    this.#scheduleProbe();
  }

  #scheduleProbe(): void {
    if (this.#probeTimer !== undefined || this.#closed) return;
    this.#probeAttempt++;
    this.#probeDelay = backoffDelay(
      this.#probeAttempt,
      this.#probeDelay,
      {
        initialDelayMs: this.#o.reconnectMinMs,
        maxDelayMs: this.#o.reconnectMaxMs,
        backoffMultiplier: 2,
        jitter: 'equal',
      },
      this.#o.random,
    );
    this.#probeTimer = this.#o.clock.setTimeout(
      () => {
        this.#probeTimer = undefined;
        // Any answer (even an error body) proves the registry is back; a failure re-arms.
        this.request('GET', '/services').catch(() => undefined);
      },
      this.#probeDelay,
      true,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The registry's error answer as a ServiceError: its own code and message when it sent them. */
function answerError(statusCode: number, text: string, request: string): ServiceError {
  const body = parseJson(text) as { code?: unknown; error?: unknown; details?: unknown } | undefined;
  const mapped = httpStatusToError(statusCode);
  const code = isServiceErrorCode(body?.code) ? body.code : mapped.code;
  const message = typeof body?.error === 'string' ? body.error : `${request} answered ${statusCode}`;
  const details = typeof body?.details === 'object' && body.details !== null ? body.details : {};
  return new ServiceError(code, message, SOURCE, {
    retryable: mapped.retryable,
    metadata: { ...(details as Record<string, unknown>), statusCode },
  });
}
