import { clockOption, durationMs, functionOption, loggerOption, nonEmptyString } from '@clone/internal';
import {
  type Clock,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
} from '@clone/service-errors';
import { z } from 'zod';
import { type CompensationFailure, type CompensationTask, runCompensations } from './compensation';
import { dictionary } from './dictionary';
import { defaultCompensationRetry } from './retry';
import { reportTo, SagaMonitor, type SagaMonitorEvents, stepContextOf } from './saga-monitor';
import { stepContextOption } from './step-context';
import { retryOption, runAttempts } from './step-runner';
import { guardedLogger, nextId, toServiceError } from './user-callbacks';

/** What an action or compensation is told about the step it runs. */
export interface StepContext {
  sagaId: string;
  step: string;
  /** `${sagaId}:${step}`: the same for every attempt, so the callee can deduplicate. */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts on timeout or when the saga's signal aborts. */
  signal: AbortSignal;
}

/** What a compensation is told beyond {@link StepContext}. */
export interface CompensationContext<R = unknown> extends StepContext {
  /** The action's result; undefined when compensating a step that failed. */
  result: R | undefined;
  /** True when compensating the step that failed (`compensateOnFailure`). */
  failed: boolean;
}

/** A step's forward action: reads and may update the shared context; its result is kept. */
export type SagaAction<Ctx, R = unknown> = (ctx: Ctx, step: StepContext) => Promise<R> | R;

/** Undoes a step's action. Should be idempotent: it may be retried. */
export type SagaCompensation<Ctx, R = unknown> = (
  ctx: Ctx,
  step: CompensationContext<R>,
) => Promise<unknown> | unknown;

const stepOptionsSchema = z.strictObject({
  /** Per-attempt timeout in ms; the action's signal aborts when it elapses. */
  timeout: durationMs(1).optional(),
  /** Retries the action (e.g. a RetryPolicy from @clone/service-errors). Default: one attempt. */
  retry: retryOption().optional(),
  /** Retries the compensation. Default: the saga's `compensationRetry`. */
  compensationRetry: retryOption().optional(),
  /** Per-attempt timeout of the compensation in ms. */
  compensationTimeout: durationMs(1).optional(),
  /** Also compensate this step when its own action fails (its effect may be partial). */
  compensateOnFailure: z.boolean().optional(),
  /** The service the step calls, as its `step:started` event (and so its span) names it. */
  service: nonEmptyString().optional(),
});

/** Options of one builder step. */
export type SagaStepOptions = z.input<typeof stepOptionsSchema>;

const sagaOptionsSchema = z.strictObject({
  /** The saga's id. Default: a fresh id from `createId` per execution. */
  sagaId: nonEmptyString().optional(),
  /** Makes saga ids. Default: a random UUID. */
  createId: functionOption<() => string>().optional(),
  /** Retry for compensations: default a few attempts with exponential backoff. */
  compensationRetry: retryOption().optional(),
  clock: clockOption<Clock>().optional(),
  logger: loggerOption<Logger>().optional(),
  /**
   * Runs each action and compensation attempt inside the hook (e.g. a tracing span's context).
   * Default: the `monitor`'s hook, when one is installed there.
   */
  stepContext: stepContextOption().optional(),
  /** The saga's type in its events (what metrics and spans group by). Default `'saga'`. */
  type: nonEmptyString().optional(),
  /**
   * Where the saga reports its progress: the events of a `SagaOrchestrator`
   * (`saga:started`, `step:completed`, `compensation:failed` …), and the step-context hook.
   */
  monitor: z
    .custom<SagaMonitor>((v) => v instanceof SagaMonitor, { error: 'must be a SagaMonitor' })
    .optional(),
});

/** Options of {@link createSaga}. */
export type SagaOptions = z.input<typeof sagaOptionsSchema>;

/** How an execution ended. Failure is a value, not a rejection. */
export interface SagaResult<Ctx> {
  success: boolean;
  sagaId: string;
  /** Steps whose action succeeded, in order. */
  completedSteps: string[];
  /** The step whose action failed (or was not started because the saga was aborted). */
  failedStep?: string;
  error?: ServiceError;
  /** Steps whose compensation succeeded, in the order they ran (reverse of completion). */
  compensatedSteps: string[];
  compensationErrors: CompensationFailure[];
  /** Each completed step's return value, by step name (a null-prototype object: any name is a key). */
  results: Record<string, unknown>;
  context: Ctx;
  durationMs: number;
}

interface BuilderStep<Ctx> {
  name: string;
  action: SagaAction<Ctx>;
  compensation: SagaCompensation<Ctx> | undefined;
  options: z.output<typeof stepOptionsSchema>;
}

/**
 * An in-process saga: steps run in order on a shared, mutable context; when one fails, the
 * completed ones are compensated in reverse. Nothing is persisted, so any context value will
 * do (Buffers included); for sagas that must survive a crash use {@link SagaOrchestrator}.
 */
export class SagaBuilder<Ctx> {
  readonly #context: Ctx;
  readonly #steps: BuilderStep<Ctx>[] = [];
  /** Step names taken so far (a Set: adding n steps stays linear). */
  readonly #names = new Set<string>();
  readonly #options: z.output<typeof sagaOptionsSchema>;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(context: Ctx, options: SagaOptions = {}) {
    this.#context = context;
    this.#options = parseOptions(sagaOptionsSchema, options, 'createSaga');
    this.#clock = this.#options.clock ?? systemClock;
    this.#logger = guardedLogger(this.#options.logger ?? noopLogger);
  }

  /**
   * Adds a step. Throws ServiceError `BAD_REQUEST`, naming the step, for an empty or duplicate
   * name, a non-function, or a bad option (a duration beyond what a timer holds included).
   */
  step<R>(
    name: string,
    action: SagaAction<Ctx, R>,
    compensation?: SagaCompensation<Ctx, R>,
    options: SagaStepOptions = {},
  ): this {
    const bad = (message: string): ServiceError =>
      new ServiceError(ServiceErrorCode.BAD_REQUEST, `createSaga: ${message}`, undefined, {
        retryable: false,
        metadata: { step: name },
      });
    if (typeof name !== 'string' || name.trim() === '') throw bad('step name must be a non-empty string');
    if (this.#names.has(name)) throw bad(`duplicate step name '${name}'`);
    if (typeof action !== 'function') throw bad(`step '${name}': action must be a function`);
    if (compensation !== undefined && typeof compensation !== 'function') {
      throw bad(`step '${name}': compensation must be a function`);
    }
    const parsed = parseOptions(stepOptionsSchema, options, `createSaga: step '${name}'`);
    this.#steps.push({
      name,
      action: action as SagaAction<Ctx>,
      compensation: compensation as SagaCompensation<Ctx> | undefined,
      options: parsed,
    });
    this.#names.add(name);
    return this;
  }

  /**
   * Runs the steps. Resolves with the outcome, never rejects for a step failure; `signal`
   * stops the saga between (and inside) steps, after which the completed steps are compensated
   * (compensations themselves are not cut short by it).
   */
  async execute(options: { signal?: AbortSignal } = {}): Promise<SagaResult<Ctx>> {
    const clock = this.#clock;
    const logger = this.#logger;
    const started = clock.now();
    const sagaId = this.#options.sagaId ?? nextId(this.#options.createId, 'createSaga');
    const type = this.#options.type ?? 'saga';
    const monitor = this.#options.monitor;
    const report =
      monitor === undefined
        ? undefined
        : <K extends keyof SagaMonitorEvents>(event: K, payload: SagaMonitorEvents[K]): void =>
            reportTo(monitor, event, payload);
    const hook = this.#options.stepContext ?? (monitor === undefined ? undefined : stepContextOf(monitor));
    const ctx = this.#context;
    // Step names are user data: `__proto__` is a result like any other.
    const results = dictionary<unknown>();
    const completed: BuilderStep<Ctx>[] = [];
    let failed: BuilderStep<Ctx> | undefined;
    let error: ServiceError | undefined;
    /** Whether the saga's signal stopped it (rather than a step failing on its own). */
    let cancelled = false;
    report?.('saga:started', { sagaId, type, correlationId: undefined });

    for (const step of this.#steps) {
      const stepId = step.name;
      if (options.signal?.aborted) {
        // Stopped between steps: this one never starts, so it reports nothing of its own.
        failed = step;
        error = toServiceError(options.signal.reason);
        cancelled = true;
        break;
      }
      const idempotencyKey = `${sagaId}:${stepId}`;
      const stepStarted = clock.now();
      report?.('step:started', {
        sagaId,
        stepId,
        service: step.options.service,
        action: stepId,
        execution: 1,
        idempotencyKey,
      });
      try {
        results[stepId] = await runAttempts(
          (signal, attempt) => {
            if (attempt > 1) report?.('step:retrying', { sagaId, stepId, attempt });
            return step.action(ctx, { sagaId, step: stepId, idempotencyKey, attempt, signal });
          },
          {
            timeoutMs: step.options.timeout,
            retry: step.options.retry,
            signal: options.signal,
            clock,
            label: `saga step '${stepId}'`,
            service: step.options.service,
            hook,
            kind: 'step',
            sagaId,
            sagaType: type,
            stepId,
          },
        );
        completed.push(step);
        report?.('step:completed', { sagaId, stepId, durationMs: clock.now() - stepStarted });
      } catch (e) {
        failed = step;
        error = toServiceError(e);
        cancelled = options.signal?.aborted === true;
        report?.('step:failed', { sagaId, stepId, error });
        logger.warn('saga step failed', {
          sagaId,
          step: stepId,
          code: error.code,
          message: error.message,
        });
        break;
      }
    }

    let compensatedSteps: string[] = [];
    let compensationErrors: CompensationFailure[] = [];
    if (failed !== undefined) {
      if (cancelled) report?.('saga:cancelled', { sagaId, type, reason: error!.message });
      report?.('saga:compensating', { sagaId, type, error: error!, failedStep: failed.name });
      const toUndo = completed.map((step) => ({ step, failed: false })).reverse();
      if (failed.options.compensateOnFailure) toUndo.unshift({ step: failed, failed: true });
      const tasks: CompensationTask[] = [];
      for (const { step, failed: isFailed } of toUndo) {
        const compensation = step.compensation;
        if (compensation === undefined) continue;
        tasks.push({
          step: step.name,
          label: `compensation of saga step '${step.name}'`,
          service: step.options.service,
          timeoutMs: step.options.compensationTimeout,
          retry:
            step.options.compensationRetry ??
            this.#options.compensationRetry ??
            defaultCompensationRetry(clock),
          attempt: (signal, attempt) =>
            compensation(ctx, {
              sagaId,
              step: step.name,
              idempotencyKey: `${sagaId}:${step.name}`,
              attempt,
              signal,
              result: results[step.name],
              failed: isFailed,
            }),
        });
      }
      ({ compensated: compensatedSteps, failures: compensationErrors } = await runCompensations(tasks, {
        sagaId,
        sagaType: type,
        hook,
        clock,
        logger,
        ...(report === undefined
          ? {}
          : {
              starting: (task: CompensationTask) =>
                report('compensation:started', { sagaId, stepId: task.step, action: task.step }),
              settled: (task: CompensationTask, failure: ServiceError | undefined) =>
                failure === undefined
                  ? report('compensation:completed', { sagaId, stepId: task.step })
                  : report('compensation:failed', { sagaId, stepId: task.step, error: failure }),
            }),
      }));
    }

    const durationMs = clock.now() - started;
    const result: SagaResult<Ctx> = {
      success: failed === undefined,
      sagaId,
      completedSteps: completed.map((s) => s.name),
      compensatedSteps,
      compensationErrors,
      results,
      context: ctx,
      durationMs,
    };
    if (failed !== undefined) result.failedStep = failed.name;
    if (error !== undefined) result.error = error;
    if (failed === undefined) report?.('saga:completed', { sagaId, type, durationMs });
    else if (compensationErrors.length > 0) report?.('saga:failed', { sagaId, type, compensationErrors });
    else report?.('saga:compensated', { sagaId, type, durationMs });
    return result;
  }
}

/** Starts building an in-process saga over `initialContext`: `.step(...)` each step, then `.execute()`. */
export function createSaga<Ctx>(initialContext: Ctx, options?: SagaOptions): SagaBuilder<Ctx> {
  return new SagaBuilder(initialContext, options);
}
