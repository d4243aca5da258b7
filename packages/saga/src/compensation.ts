import type { Clock, Logger, ServiceError } from '@clone/service-errors';
import type { StepContextHook } from './step-context';
import { type RetryLike, runAttempts } from './step-runner';
import { toServiceError } from './user-callbacks';

/** A compensation that still failed after its retries. */
export interface CompensationFailure {
  step: string;
  error: ServiceError;
}

/** One compensation to run: the step it undoes and how to call the user's code once. */
export interface CompensationTask {
  /** The step's name (builder) or id (orchestrator). */
  step: string;
  /** Names the compensation in a timeout error. */
  label: string;
  service?: string | undefined;
  /** Per-attempt timeout; none when undefined. */
  timeoutMs: number | undefined;
  /** Retries the compensation; one attempt when undefined. */
  retry: RetryLike | undefined;
  /** One attempt of the user's compensation. */
  attempt(signal: AbortSignal, attempt: number): unknown;
}

/** How a saga runs its compensations, and what it records around each. */
export interface CompensationPlan<T extends CompensationTask> {
  sagaId: string;
  clock: Clock;
  logger: Logger;
  /** Aborts the compensation in flight (an orchestrator letting go of the saga). */
  signal?: AbortSignal | undefined;
  /** The saga's type, as the hook is told (a builder saga's `type` option, default 'saga'). */
  sagaType?: string | undefined;
  /** Wraps each compensation attempt (`useStepContext`); undefined runs them as they are. */
  hook?: StepContextHook | undefined;
  /** Before each compensation (write-ahead: record it as started). A throw stops the run. */
  starting?(task: T): Promise<void> | void;
  /** After each outcome, `error` undefined on success (record it). A throw stops the run. */
  settled?(task: T, error: ServiceError | undefined): Promise<void> | void;
}

/** What the compensations of a saga came to. */
export interface CompensationOutcome {
  /** Steps whose compensation succeeded, in the order they ran. */
  compensated: string[];
  failures: CompensationFailure[];
}

/**
 * The one compensation engine, for the builder's sagas and the orchestrator's alike. Runs the
 * tasks one at a time in the order given (the caller decides it: reverse completion), each
 * under its own retry and per-attempt timeout. A compensation that still fails is recorded and
 * the next one runs anyway: a saga undone as far as possible leaves less for a person to
 * clean than one that stopped at the first failure. Never rejects for a compensation's
 * failure; only a hook's throw (the orchestrator's store or lease gone) stops it.
 */
export async function runCompensations<T extends CompensationTask>(
  tasks: Iterable<T>,
  plan: CompensationPlan<T>,
): Promise<CompensationOutcome> {
  const compensated: string[] = [];
  const failures: CompensationFailure[] = [];
  for (const task of tasks) {
    await plan.starting?.(task);
    let error: ServiceError | undefined;
    try {
      await runAttempts((signal, attempt) => task.attempt(signal, attempt), {
        timeoutMs: task.timeoutMs,
        retry: task.retry,
        signal: plan.signal,
        clock: plan.clock,
        label: task.label,
        service: task.service,
        hook: plan.hook,
        kind: 'compensation',
        sagaId: plan.sagaId,
        sagaType: plan.sagaType,
        stepId: task.step,
      });
    } catch (e) {
      error = toServiceError(e, task.service);
    }
    await plan.settled?.(task, error);
    if (error === undefined) {
      compensated.push(task.step);
      continue;
    }
    plan.logger.error('saga compensation failed', {
      sagaId: plan.sagaId,
      step: task.step,
      message: error.message,
    });
    failures.push({ step: task.step, error });
  }
  return { compensated, failures };
}
