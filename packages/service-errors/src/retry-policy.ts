import {
  durationMs,
  formatValue,
  functionOption,
  intAtLeast,
  MAX_TIMER_MS,
  numberAtLeast,
  randomOption,
} from '@clone/internal';
import { z } from 'zod';
import { backoffDelay, type Jitter } from './backoff';
import { BasePolicy } from './base-policy';
import { type Clock, systemClock } from './clock';
import { type DeadlineQueue, deadlineQueueFor } from './deadline-queue';
import { Emitter, type Listener, type Unsubscribe } from './emitter';
import { isServiceErrorCode, ServiceErrorCode } from './error-code';
import { GrpcStatus, type GrpcStatusName } from './grpc-status';
import { type Logger, noopLogger } from './logger';
import { clockOption, loggerOption } from './option-schemas';
import {
  abortError,
  ChildContext,
  EXECUTE,
  type ExecuteContext,
  isThenable,
  NEVER_ABORTED,
  type Next,
  type Operation,
  type OutcomeObserver,
  ROOT_CONTEXT,
} from './policy';
import { RetryBudget } from './retry-budget';
import { ServiceError } from './service-error';
import { runWithDeadline, TIMED_OUT } from './timeout';
import { hookFailed, observerThrew } from './user-hook';
import { parseOptions } from './validation';

/** An entry of `retryableErrors`: a ServiceErrorCode name, a gRPC status name or number. */
export type RetryableError = ServiceErrorCode | `${ServiceErrorCode}` | GrpcStatusName | number;

/** What a `shouldRetry` hook is told about a failed attempt. */
export interface RetryDecision {
  /** The attempt that failed (1-based). */
  attempt: number;
  /** What the policy would decide on its own (`retryableErrors`, else `error.retryable`). */
  retryable: boolean;
  /** The value the attempt threw, before normalisation. */
  raw: unknown;
}

/**
 * Why a RetryPolicy stopped retrying. `pushback`: the server asked for a wait longer than
 * `maxPushbackMs` (or than any timer holds). `budget`: the retry budget shared with the
 * callee's other clients is spent.
 */
export type GiveUpReason =
  | 'not-retryable'
  | 'attempts-exhausted'
  | 'deadline'
  | 'aborted'
  | 'pushback'
  | 'budget';

const isRetryableEntry = (v: unknown): v is RetryableError =>
  (typeof v === 'string' && (isServiceErrorCode(v) || Object.hasOwn(GrpcStatus, v))) ||
  (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 16);

/** Options of a {@link RetryPolicy}; every field is optional. */
export const retryOptionsSchema = z.strictObject({
  /** Attempts in all, the first included (default 3). */
  maxAttempts: intAtLeast(1).default(3),
  /** Ceiling of the first delay, in ms (default 100). 0 retries at once, without a timer. */
  initialDelayMs: durationMs(0).default(100),
  /** Upper bound of any backoff delay, in ms (default 5 000). Server pushback has its own cap. */
  maxDelayMs: durationMs(0).default(5_000),
  /**
   * The longest server pushback (`retryAfterMs`) the policy waits for, in ms (default 60 000):
   * a server asking for a longer wait ends the retries with its error (reason `pushback`), as
   * does one whose wait would pass the deadline.
   */
  maxPushbackMs: durationMs(0).default(60_000),
  /** Growth of the ceiling per attempt (default 2). */
  backoffMultiplier: numberAtLeast(1).default(2),
  /** How delays are spread below the ceiling (default `full`); see {@link Jitter}. */
  jitter: z.enum(['full', 'equal', 'decorrelated', 'none']).default('full'),
  /**
   * Which errors are retried: ServiceErrorCode names (`'TIMEOUT'`), gRPC status names
   * (`'UNAVAILABLE'`) or numbers (`14`). Absent: the error's own `retryable`. A gRPC status
   * never matches a local rejection (CIRCUIT_OPEN, BULKHEAD_FULL, CANCELLED): list those by
   * code to retry them.
   */
  retryableErrors: z
    .array(
      z.custom<RetryableError>(isRetryableEntry, {
        error: 'must be a ServiceErrorCode name, a gRPC status name or a gRPC status number (0-16)',
      }),
    )
    .readonly()
    .optional(),
  /**
   * Final say on each failed attempt, e.g. `(e, d) => d.retryable && isIdempotent`. If it
   * throws, the call ends with INTERNAL_ERROR (the thrown value as `cause`).
   */
  shouldRetry: functionOption<(error: ServiceError, decision: RetryDecision) => boolean>().optional(),
  /**
   * Budget for all attempts and delays, in ms from the start: a running attempt is aborted
   * with TIMEOUT at the deadline, and no delay or attempt is started that would pass it.
   */
  deadlineMs: durationMs().optional(),
  /** Time an attempt needs at least: no attempt starts with less left before the deadline (default 0). */
  minAttemptMs: durationMs(0).default(0),
  /** Source of randomness for jitter, in [0, 1] (default Math.random); anything else fails the call. */
  random: randomOption().optional(),
  /**
   * A retry budget, usually shared by every client of one callee: each call counts as a
   * request, and a retry the budget refuses ends the call with its last error (reason
   * `budget`). Absent: retries are bounded by `maxAttempts` only.
   */
  budget: z
    .custom<RetryBudget>((v) => v instanceof RetryBudget, { error: 'must be a RetryBudget' })
    .optional(),
  /** Service name put on the final error when the error has none. */
  service: z.string().optional(),
  clock: clockOption.optional(),
  logger: loggerOption.optional(),
});

/** Options of a {@link RetryPolicy}. */
export type RetryOptions = z.input<typeof retryOptionsSchema>;

/** Events of a {@link RetryPolicy}. */
export interface RetryEvents {
  /** Attempt `attempt` failed and the next one starts after `delayMs`. */
  retry: { attempt: number; delayMs: number; error: ServiceError };
  /** No more attempts: `error` is what the caller receives. */
  giveUp: { attempts: number; reason: GiveUpReason; error: ServiceError };
  /** The call succeeded on attempt `attempts`. */
  success: { attempts: number };
}

/** Local rejections: a gRPC status in `retryableErrors` does not make these retryable. */
const LOCAL_REJECTIONS: ReadonlySet<ServiceErrorCode> = new Set([
  ServiceErrorCode.CIRCUIT_OPEN,
  ServiceErrorCode.BULKHEAD_FULL,
  ServiceErrorCode.CANCELLED,
]);

const NONE = -1;

/** The rest of a retry loop after a failed first attempt (see RetryPolicy's `#loop`). */
type LoopRest = <T>(op: Operation<T>, next: Next, context: ExecuteContext, error: unknown) => Promise<T>;

/**
 * The first attempt of a call, as its observer (see OutcomeObserver): a failure is answered
 * with the rest of the retry loop. Fields rather than a closure: the success path makes this
 * object and nothing else.
 */
class FirstAttempt<T> implements OutcomeObserver {
  claimed: PromiseLike<unknown> | undefined = undefined;
  readonly #rest: LoopRest;
  readonly #op: Operation<T>;
  readonly #next: Next;
  readonly #context: ExecuteContext;

  constructor(rest: LoopRest, op: Operation<T>, next: Next, context: ExecuteContext) {
    this.#rest = rest;
    this.#op = op;
    this.#next = next;
    this.#context = context;
  }

  fulfilled(): void {}

  rejected(error: unknown): Promise<T> {
    return this.#rest(this.#op, this.#next, this.#context, error);
  }
}

/**
 * Runs an operation again when it fails with a retryable error, with exponential backoff and
 * jitter. Server pushback (`grpc-retry-pushback-ms`, HTTP `Retry-After`, read by
 * `ServiceError.from` into `retryAfterMs`) replaces the computed delay, up to `maxPushbackMs`
 * and the deadline; a longer one ends the retries with the server's error. A zero delay retries
 * in the same tick, never through a timer. A caller abort stops at once, during an attempt or
 * a delay. The final error is a ServiceError with the last error's code, `attempts` and the
 * last thrown value as `cause`.
 */
export class RetryPolicy extends BasePolicy {
  readonly #maxAttempts: number;
  readonly #backoff: {
    initialDelayMs: number;
    maxDelayMs: number;
    backoffMultiplier: number;
    jitter: Jitter;
  };
  readonly #codes: ReadonlySet<string> | undefined;
  readonly #statuses: ReadonlySet<number> | undefined;
  readonly #shouldRetry: ((error: ServiceError, decision: RetryDecision) => boolean) | undefined;
  readonly #deadlineMs: number;
  readonly #minAttemptMs: number;
  readonly #maxPushbackMs: number;
  readonly #random: () => number;
  readonly #service: string | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #queue: DeadlineQueue | undefined;
  #events: Emitter<RetryEvents> | undefined;
  /** The loop after a failed first attempt, made once per policy for its FirstAttempt observers. */
  readonly #rest: LoopRest = (op, next, context, error) => this.#loop(op, next, context, true, error);

  constructor(options: RetryOptions = {}) {
    super();
    const o = parseOptions(retryOptionsSchema, options, 'RetryPolicy');
    // Only an explicit maxDelayMs below initialDelayMs is a contradiction; the default cap
    // rises to a larger initial delay rather than silently shortening it.
    if (options.maxDelayMs === undefined) o.maxDelayMs = Math.max(o.maxDelayMs, o.initialDelayMs);
    else if (o.maxDelayMs < o.initialDelayMs) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `RetryPolicy: maxDelayMs must be at least initialDelayMs (${o.initialDelayMs}), got ${o.maxDelayMs}`,
        undefined,
        { retryable: false, metadata: { field: 'maxDelayMs' } },
      );
    }
    this.#maxAttempts = o.maxAttempts;
    this.#backoff = {
      initialDelayMs: o.initialDelayMs,
      maxDelayMs: o.maxDelayMs,
      backoffMultiplier: o.backoffMultiplier,
      jitter: o.jitter,
    };
    if (o.retryableErrors !== undefined) {
      const codes = new Set<string>();
      const statuses = new Set<number>();
      for (const entry of o.retryableErrors) {
        if (typeof entry === 'number') statuses.add(entry);
        else {
          if (isServiceErrorCode(entry)) codes.add(entry);
          if (Object.hasOwn(GrpcStatus, entry)) statuses.add(GrpcStatus[entry as GrpcStatusName]);
        }
      }
      this.#codes = codes;
      this.#statuses = statuses;
    }
    this.#shouldRetry = o.shouldRetry;
    this.#deadlineMs = o.deadlineMs ?? NONE;
    this.#minAttemptMs = o.minAttemptMs;
    this.#maxPushbackMs = o.maxPushbackMs;
    this.#random = o.random === undefined ? Math.random : checkedRandom(o.random);
    this.#service = o.service;
    this.#budget = o.budget;
    this.#clock = o.clock ?? systemClock;
    this.#logger = o.logger ?? noopLogger;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof RetryEvents>(event: K, listener: Listener<RetryEvents[K]>): Unsubscribe {
    this.#events ??= new Emitter();
    return this.#events.on(event, listener);
  }

  /** @internal The one execution path (see `EXECUTE` in policy.ts). */
  [EXECUTE]<T>(op: Operation<T>, context: ExecuteContext, next: Next): Promise<T> {
    this.#budget?.recordRequest();
    if (context !== ROOT_CONTEXT || this.#deadlineMs !== NONE || this.#events?.hasListeners('success')) {
      return this.#loop(op, next, context, false, undefined);
    }
    // The common case, first attempt, no deadline, no signal: the attempt's own promise, and
    // the loop only once it failed. The layer inside may take on watching for that failure
    // (see OutcomeObserver): then the caller gets its promise as is, else a derived one.
    const first = new FirstAttempt(this.#rest, op, next, context);
    let result: PromiseLike<T> | T;
    try {
      result = next(op, context, first);
    } catch (error) {
      return this.#loop(op, next, context, true, error);
    }
    if (!isThenable(result)) return Promise.resolve(result);
    const pending = Promise.resolve(result);
    return first.claimed === pending ? pending : pending.then(undefined, (error) => first.rejected(error));
  }

  /** The retry loop; with `failed`, attempt 1 already ran and threw `firstError`. */
  async #loop<T>(
    op: Operation<T>,
    next: Next,
    context: ExecuteContext,
    failed: boolean,
    firstError: unknown,
  ): Promise<T> {
    const signal = context.signal;
    if (!failed && signal.aborted) throw abortError(signal);
    const clock = this.#clock;
    // Race attempts against the deadline and the caller's signal only when either can fire.
    const guarded = this.#deadlineMs !== NONE || signal !== NEVER_ABORTED;
    if (guarded) this.#queue ??= deadlineQueueFor(clock);
    const queue = guarded ? this.#queue : undefined;
    let deadline = context.deadline;
    if (this.#deadlineMs !== NONE) {
      const own = queue!.now() + this.#deadlineMs;
      if (own < deadline) deadline = own;
    }
    let previousDelay = 0;
    for (let attempt = 1; ; attempt++) {
      let raw: unknown;
      if (attempt === 1 && failed) {
        raw = firstError;
      } else {
        const ctx =
          attempt === 1 && context.attempt === 1 && deadline === context.deadline
            ? context
            : new ChildContext(context, attempt, deadline);
        try {
          const value =
            queue === undefined
              ? await next(op, ctx)
              : await runWithDeadline(op, next, ctx, deadline, queue.now(), queue, this.#deadlineMs, this);
          this.#events?.emit('success', { attempts: attempt });
          return value;
        } catch (error) {
          raw = error;
        }
      }
      const error = ServiceError.from(raw);
      if (signal.aborted) throw this.#giveUp(abortError(signal), raw, attempt, 'aborted');
      let retry: boolean;
      try {
        retry = this.#decide(error, raw, attempt);
      } catch (hookError) {
        const failure = hookFailed('RetryPolicy', 'shouldRetry', hookError, error, this.#service);
        throw this.#giveUp(failure, hookError, attempt, 'not-retryable');
      }
      if (!retry) throw this.#giveUp(error, raw, attempt, 'not-retryable');
      if (attempt >= this.#maxAttempts) throw this.#giveUp(error, raw, attempt, 'attempts-exhausted');
      const pushback = error.retryAfterMs;
      // A server that asks for more than we are willing (or a timer is able) to wait has
      // answered: retrying sooner would hammer it, waiting that long would hold the caller.
      if (pushback !== undefined && (pushback > this.#maxPushbackMs || pushback >= MAX_TIMER_MS)) {
        throw this.#giveUp(error, raw, attempt, 'pushback');
      }
      let delay: number;
      try {
        delay = pushback ?? backoffDelay(attempt, previousDelay, this.#backoff, this.#random);
      } catch (hookError) {
        const failure = hookFailed('RetryPolicy', 'random', hookError, error, this.#service);
        throw this.#giveUp(failure, hookError, attempt, 'not-retryable');
      }
      previousDelay = delay;
      if (deadline !== Number.POSITIVE_INFINITY && clock.now() + delay + this.#minAttemptMs >= deadline) {
        throw this.#giveUp(error, raw, attempt, 'deadline');
      }
      // Asked last, so a retry refused for any other reason never spends the budget.
      if (this.#budget !== undefined && !this.#budget.tryRetry()) {
        throw this.#giveUp(error, raw, attempt, 'budget');
      }
      this.#events?.emit('retry', { attempt, delayMs: delay, error });
      if (delay > 0) {
        try {
          await sleep(clock, delay, signal);
        } catch {
          throw this.#giveUp(abortError(signal), raw, attempt, 'aborted');
        }
      }
    }
  }

  /** @internal The overall deadline passed during an attempt (see `TIMED_OUT` in timeout.ts). */
  [TIMED_OUT](timeoutMs: number, deadline: number): ServiceError {
    return new ServiceError(
      ServiceErrorCode.TIMEOUT,
      `Retry deadline of ${timeoutMs} ms exceeded`,
      this.#service,
      {
        retryable: true,
        metadata: { deadlineMs: timeoutMs, deadline },
      },
    );
  }

  #decide(error: ServiceError, raw: unknown, attempt: number): boolean {
    let retryable: boolean;
    if (this.#codes === undefined) retryable = error.retryable;
    else if (this.#codes.has(error.code)) retryable = true;
    else retryable = !LOCAL_REJECTIONS.has(error.code) && this.#statuses!.has(error.grpcStatus);
    return this.#shouldRetry === undefined
      ? retryable
      : this.#shouldRetry(error, { attempt, retryable, raw });
  }

  #giveUp(error: ServiceError, raw: unknown, attempts: number, reason: GiveUpReason): ServiceError {
    const final = new ServiceError(
      error.code,
      attempts > 1 ? `${error.message} (gave up after ${attempts} attempts)` : error.message,
      error.service ?? this.#service,
      {
        retryable: error.retryable,
        metadata: error.metadata,
        cause: raw,
        grpcStatus: error.grpcStatus,
        httpStatus: error.httpStatus,
        retryAfterMs: error.retryAfterMs,
        attempts,
      },
    );
    this.#events?.emit('giveUp', { attempts, reason, error: final });
    if (attempts > 1) {
      // A throwing user logger must not replace the error the caller is owed.
      try {
        this.#logger.debug('retry gave up', { attempts, reason, code: final.code });
      } catch (error) {
        observerThrew('RetryPolicy', error);
      }
    }
    return final;
  }
}

/** `random` checked on every draw: a value outside [0, 1] would make a delay no timer can hold. */
function checkedRandom(random: () => number): () => number {
  return () => {
    const r = random();
    if (typeof r === 'number' && r >= 0 && r <= 1) return r;
    throw new TypeError(`random returned ${formatValue(r)}, not a number in [0, 1]`);
  };
}

/** Waits `ms` on `clock`; rejects when `signal` aborts. The timer is ref'd: work is pending. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal === NEVER_ABORTED) return new Promise((resolve) => clock.setTimeout(resolve, ms));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
