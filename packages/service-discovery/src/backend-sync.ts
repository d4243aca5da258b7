import {
  type BackoffOptions,
  backoffDelay,
  type Clock,
  type Logger,
  ServiceError,
  type TimerHandle,
} from '@clone/service-errors';
import type { BackendConnection } from './backend';
import type { ServiceInstance } from './instance';

/** Writing one of the registry's own instances to the backend failed; retried after `retryInMs`. */
export interface BackendWriteError {
  backend: string;
  operation: 'publish' | 'withdraw';
  serviceId: string;
  error: ServiceError;
  attempt: number;
  retryInMs: number;
}

/** What a {@link BackendSync} needs; the registry passes its connection and parsed options. */
export interface BackendSyncOptions {
  connection: Pick<BackendConnection, 'publish' | 'withdraw'>;
  /** The backend's `kind`, for events and logs. */
  backend: string;
  /** The instance the registry wants published under `serviceId`, or undefined: withdraw it. */
  desired(serviceId: string): ServiceInstance | undefined;
  /** First delay before a failed write is retried; doubles (equal jitter) up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  clock: Clock;
  /** Uniform numbers in [0, 1), for the jitter. */
  random: () => number;
  logger: Logger;
  onError(event: BackendWriteError): void;
}

interface Sync {
  running: boolean;
  again: boolean;
  attempt: number;
  previousDelayMs: number;
  timer: TimerHandle | undefined;
}

/**
 * Keeps the backend in line with what the registry owns, one serviceId at a time: one write in
 * flight per id, a change while it runs triggers exactly one more, and a failure is reported
 * and retried with capped exponential backoff (`backoffDelay`, equal jitter) until it succeeds
 * or the intent changes. Never rejects: a failed write is an event, not an unhandled rejection.
 * @internal The registry's; a service team sees it through `backendError` events.
 */
export class BackendSync {
  readonly #options: BackendSyncOptions;
  readonly #backoff: BackoffOptions;
  readonly #syncs = new Map<string, Sync>();
  #closed = false;

  constructor(options: BackendSyncOptions) {
    this.#options = options;
    this.#backoff = {
      initialDelayMs: options.initialDelayMs,
      maxDelayMs: options.maxDelayMs,
      backoffMultiplier: 2,
      // At least half the ceiling: a store that is down is not hammered by an unlucky draw.
      jitter: 'equal',
    };
  }

  /** Brings the backend in line with `desired(serviceId)`: publish it, or withdraw it. */
  sync(serviceId: string): void {
    if (this.#closed) return;
    let state = this.#syncs.get(serviceId);
    if (state === undefined) {
      state = { running: false, again: false, attempt: 0, previousDelayMs: 0, timer: undefined };
      this.#syncs.set(serviceId, state);
    }
    if (state.running) {
      state.again = true;
      return;
    }
    if (state.timer !== undefined) {
      this.#options.clock.clearTimeout(state.timer);
      state.timer = undefined;
    }
    const sync = state;
    const { connection } = this.#options;
    const desired = this.#options.desired(serviceId);
    const operation = desired === undefined ? 'withdraw' : 'publish';
    sync.running = true;
    let write: Promise<void>;
    try {
      write = desired === undefined ? connection.withdraw(serviceId) : connection.publish(desired);
    } catch (error) {
      write = Promise.reject(error);
    }
    write.then(
      () => this.#succeeded(serviceId, sync),
      (cause: unknown) => this.#failed(serviceId, sync, operation, cause),
    );
  }

  /** Clears every retry timer; later calls to `sync` do nothing. Writes in flight run out. */
  close(): void {
    this.#closed = true;
    for (const sync of this.#syncs.values())
      if (sync.timer !== undefined) this.#options.clock.clearTimeout(sync.timer);
    this.#syncs.clear();
  }

  #succeeded(serviceId: string, sync: Sync): void {
    sync.running = false;
    sync.attempt = 0;
    sync.previousDelayMs = 0;
    if (this.#closed) return;
    if (sync.again) {
      sync.again = false;
      this.sync(serviceId);
    } else if (this.#syncs.get(serviceId) === sync) {
      this.#syncs.delete(serviceId);
    }
  }

  #failed(serviceId: string, sync: Sync, operation: BackendWriteError['operation'], cause: unknown): void {
    sync.running = false;
    sync.again = false;
    if (this.#closed) return;
    const { backend, clock, logger, random } = this.#options;
    const error = ServiceError.from(cause);
    sync.attempt++;
    const retryInMs = backoffDelay(sync.attempt, sync.previousDelayMs, this.#backoff, random);
    sync.previousDelayMs = retryInMs;
    logger.warn('service registry: backend write failed, retrying', {
      backend,
      operation,
      serviceId,
      retryInMs,
      error,
    });
    this.#options.onError({ backend, operation, serviceId, error, attempt: sync.attempt, retryInMs });
    sync.timer = clock.setTimeout(
      () => {
        sync.timer = undefined;
        this.sync(serviceId);
      },
      retryInMs,
      true,
    );
  }
}
