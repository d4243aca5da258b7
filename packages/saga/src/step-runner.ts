import { type Clock, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { z } from 'zod';
import type { StepAttempt, StepContextHook } from './step-context';
import { toServiceError } from './user-callbacks';

/**
 * What a saga needs of a retry policy: `RetryPolicy` from `@clone/service-errors` has this
 * shape, and so can any adapter (cockatiel's `retry(...)` wrapped in two lines).
 */
export interface RetryLike {
  execute<T>(
    fn: (context: { signal: AbortSignal; attempt: number }) => Promise<T> | T,
    signal?: AbortSignal,
  ): Promise<T>;
}

/** The one schema of a retry-policy option (a step's, a saga's, the orchestrator's). */
export function retryOption(): z.ZodType<RetryLike, RetryLike> {
  return z.custom<RetryLike>(
    (v) => typeof v === 'object' && v !== null && typeof (v as RetryLike).execute === 'function',
    { error: 'must be a retry policy (an object with execute(fn, signal))' },
  );
}

/** How one step or compensation is attempted. */
export interface AttemptOptions {
  timeoutMs?: number | undefined;
  retry?: RetryLike | undefined;
  signal?: AbortSignal | undefined;
  clock: Clock;
  /** Names the step in a timeout error. */
  label: string;
  service?: string | undefined;
  /** Wraps each attempt (`useStepContext`); undefined runs attempts as they are. */
  hook?: StepContextHook | undefined;
  /** Which of the hook's methods wraps the attempts. */
  kind: 'step' | 'compensation';
  sagaId: string;
  /** The saga's type (a builder saga's `type` option, default 'saga'). */
  sagaType?: string | undefined;
  /** The step's id (orchestrator) or name (builder). */
  stepId: string;
}

/**
 * Runs `fn` under the retry policy, each attempt under its own timeout. An attempt settles
 * when its timeout fires or the caller aborts even if `fn` ignores its signal: a saga must not
 * hang on a handler that never returns, and the abort tells the handler to stop. With a
 * `hook`, each attempt runs inside it: the one place both the orchestrator's and the builder's
 * steps and compensations pass through.
 */
export function runAttempts<T>(
  fn: (signal: AbortSignal, attempt: number) => Promise<T> | T,
  options: AttemptOptions,
): Promise<T> {
  const { hook } = options;
  const run = hook === undefined ? fn : inHook(fn, hook, options);
  const once = (signal: AbortSignal | undefined, attempt: number): Promise<T> =>
    attemptWithTimeout((s) => run(s, attempt), signal, options);
  if (options.retry === undefined) return once(options.signal, 1);
  try {
    // A user's policy may throw instead of rejecting: still one rejected promise for the caller.
    return Promise.resolve(
      options.retry.execute(({ signal, attempt }) => once(signal, attempt), options.signal),
    );
  } catch (error) {
    return Promise.reject(toServiceError(error, options.service));
  }
}

/** `fn` with each call inside the hook: its result and its throw are the attempt's, unchanged. */
function inHook<T>(
  fn: (signal: AbortSignal, attempt: number) => Promise<T> | T,
  hook: StepContextHook,
  { kind, sagaId, sagaType, stepId, service }: AttemptOptions,
): (signal: AbortSignal, attempt: number) => Promise<T> | T {
  return (signal, attempt) => {
    const at: StepAttempt = { sagaId, sagaType, stepId, service, attempt };
    const call = (): Promise<T> | T => fn(signal, attempt);
    return kind === 'step' ? hook.runStep(at, call) : hook.runCompensation(at, call);
  };
}

function attemptWithTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T> | T,
  parent: AbortSignal | undefined,
  { timeoutMs, clock, label, service }: AttemptOptions,
): Promise<T> {
  if (parent?.aborted) return Promise.reject(toServiceError(parent.reason, service));
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: unknown;
    const onParentAbort = (): void => controller.abort(parent!.reason);
    const onAbort = (): void => {
      cleanup();
      reject(toServiceError(controller.signal.reason, service));
    };
    const cleanup = (): void => {
      if (timer !== undefined) clock.clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
      controller.signal.removeEventListener('abort', onAbort);
    };
    parent?.addEventListener('abort', onParentAbort, { once: true });
    controller.signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = clock.setTimeout(
        () =>
          controller.abort(
            new ServiceError(ServiceErrorCode.TIMEOUT, `${label} timed out after ${timeoutMs} ms`, service, {
              retryable: true,
              metadata: { timeoutMs },
            }),
          ),
        timeoutMs,
        true,
      );
    }
    let pending: Promise<T> | T;
    try {
      pending = fn(controller.signal);
    } catch (error) {
      cleanup();
      reject(toServiceError(error, service));
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        if (controller.signal.aborted) return;
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        cleanup();
        reject(toServiceError(error, service));
      },
    );
  });
}
