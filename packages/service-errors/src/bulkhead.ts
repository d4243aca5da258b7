import { intAtLeast } from '@clone/internal';
import { z } from 'zod';
import { BasePolicy } from './base-policy';
import { Emitter, type Listener, type Unsubscribe } from './emitter';
import { ServiceErrorCode } from './error-code';
import {
  abortError,
  EXECUTE,
  type ExecuteContext,
  isAborted,
  NEVER_ABORTED,
  type Next,
  type Operation,
} from './policy';
import { ServiceError } from './service-error';
import { parseOptions } from './validation';

/** Options of a {@link Bulkhead}. */
export const bulkheadOptionsSchema = z.strictObject({
  /** Calls allowed to run at once. */
  maxConcurrent: intAtLeast(1),
  /** Calls allowed to wait for a slot, in arrival order (default 0: reject at once). */
  maxQueue: intAtLeast(0).default(0),
  /** Service name put on BULKHEAD_FULL errors. */
  service: z.string().optional(),
});

/** Options of a {@link Bulkhead}. */
export type BulkheadOptions = z.input<typeof bulkheadOptionsSchema>;

/** Events of a {@link Bulkhead}. */
export interface BulkheadEvents {
  /** A call was turned away: every slot and queue place taken. */
  rejected: { error: ServiceError; active: number; queued: number };
  /** A call waits for a slot. */
  queued: { queued: number };
}

/** What {@link Bulkhead.getStats} returns. */
export interface BulkheadStats {
  active: number;
  queued: number;
  /** Free execution slots. */
  executionSlots: number;
  /** Free queue places. */
  queueSlots: number;
  totalRejections: number;
}

interface Waiter {
  start: () => void;
  cancel: (error: ServiceError) => void;
  done: boolean;
}

/**
 * Limits concurrent calls to a dependency, so one slow callee cannot take every socket,
 * worker or memory of the caller. Calls past `maxConcurrent` wait in a FIFO queue of at most
 * `maxQueue`; past that they are rejected at once with a non-retryable `BULKHEAD_FULL`
 * ServiceError. A waiting call leaves the queue when its signal aborts (a timeout outside the
 * bulkhead counts its wait).
 */
export class Bulkhead extends BasePolicy {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly #service: string | undefined;
  #active = 0;
  #queue: Waiter[] = [];
  #head = 0;
  /** Waiting calls not cancelled. */
  #waiting = 0;
  #totalRejections = 0;
  #events: Emitter<BulkheadEvents> | undefined;

  constructor(options: BulkheadOptions) {
    super();
    const o = parseOptions(bulkheadOptionsSchema, options, 'Bulkhead');
    this.maxConcurrent = o.maxConcurrent;
    this.maxQueue = o.maxQueue;
    this.#service = o.service;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof BulkheadEvents>(event: K, listener: Listener<BulkheadEvents[K]>): Unsubscribe {
    this.#events ??= new Emitter();
    return this.#events.on(event, listener);
  }

  /** Current occupancy. */
  getStats(): BulkheadStats {
    const queued = this.#queued();
    return {
      active: this.#active,
      queued,
      executionSlots: this.maxConcurrent - this.#active,
      queueSlots: this.maxQueue - queued,
      totalRejections: this.#totalRejections,
    };
  }

  /** @internal The one execution path (see `EXECUTE` in policy.ts). */
  [EXECUTE]<T>(op: Operation<T>, context: ExecuteContext, next: Next): Promise<T> {
    if (this.#active < this.maxConcurrent && this.#queued() === 0) {
      const signal = context.signal;
      if (isAborted(signal)) return Promise.reject(abortError(signal));
      this.#active++;
      return this.#exec(op, next, context);
    }
    const queued = this.#queued();
    if (queued >= this.maxQueue) {
      this.#totalRejections++;
      const error = new ServiceError(
        ServiceErrorCode.BULKHEAD_FULL,
        `Bulkhead full: ${this.#active} running, ${queued} waiting`,
        this.#service,
        { retryable: false, metadata: { maxConcurrent: this.maxConcurrent, maxQueue: this.maxQueue } },
      );
      this.#events?.emit('rejected', { error, active: this.#active, queued });
      return Promise.reject(error);
    }
    return this.#enqueue(op, next, context);
  }

  async #exec<T>(op: Operation<T>, next: Next, context: ExecuteContext): Promise<T> {
    try {
      return await next(op, context);
    } finally {
      this.#active--;
      this.#drain();
    }
  }

  #enqueue<T>(op: Operation<T>, next: Next, context: ExecuteContext): Promise<T> {
    const signal = context.signal;
    if (isAborted(signal)) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => waiter.cancel(abortError(signal));
      const waiter: Waiter = {
        done: false,
        start: () => {
          if (signal !== NEVER_ABORTED) signal.removeEventListener('abort', onAbort);
          this.#active++;
          this.#exec(op, next, context).then(resolve, reject);
        },
        cancel: (error) => {
          if (waiter.done) return;
          waiter.done = true;
          this.#waiting--;
          reject(error);
        },
      };
      this.#queue.push(waiter);
      this.#waiting++;
      if (signal !== NEVER_ABORTED) signal.addEventListener('abort', onAbort, { once: true });
      this.#events?.emit('queued', { queued: this.#queued() });
    });
  }

  /** Starts waiting calls while slots are free; skips the ones cancelled meanwhile. */
  #drain(): void {
    const queue = this.#queue;
    while (this.#active < this.maxConcurrent && this.#head < queue.length) {
      const waiter = queue[this.#head]!;
      queue[this.#head++] = undefined as never;
      if (waiter.done) continue;
      waiter.done = true;
      this.#waiting--;
      waiter.start();
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #queued(): number {
    return this.#waiting;
  }
}
