import { formatValue } from '@clone/internal';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { z } from 'zod';

/** The attempt a {@link StepContextHook} is wrapping: which saga, which step, which try. */
export interface StepAttempt {
  sagaId: string;
  /** The saga's type: `startSaga`'s, or `createSaga`'s `type` option (default `'saga'`). */
  sagaType: string | undefined;
  /** The step's id (orchestrator) or name (builder). */
  stepId: string;
  /** The step's service; for a builder step its `service` option, undefined when not given. */
  service: string | undefined;
  /** 1 for the first attempt of the action (or of the compensation). */
  attempt: number;
}

/**
 * Runs each attempt of a step's action and of its compensation inside a context of the
 * hook's choosing: `@clone/telemetry`'s `traceSagaOrchestrator` installs one so a handler's
 * calls are children of the step's (or the compensation's) span without the handler knowing.
 * Each method must call `fn` once and return what it returns (a throw included): the saga
 * reads its outcome from that. By shape: this package does not depend on OpenTelemetry.
 */
export interface StepContextHook {
  runStep<T>(attempt: StepAttempt, fn: () => T): T;
  runCompensation<T>(attempt: StepAttempt, fn: () => T): T;
}

function isHook(value: unknown): value is StepContextHook {
  const hook = value as Partial<StepContextHook> | null;
  return typeof hook?.runStep === 'function' && typeof hook.runCompensation === 'function';
}

const HOOK_SHAPE = 'must be a step context hook (an object with runStep and runCompensation functions)';

/** The schema of a `stepContext` option (`createSaga`'s). */
export function stepContextOption(): z.ZodType<StepContextHook, StepContextHook> {
  return z.custom<StepContextHook>(isHook, { error: HOOK_SHAPE });
}

/** Throws BAD_REQUEST naming `field` unless `value` is a {@link StepContextHook}. */
export function assertStepContextHook(value: unknown, where: string, field: string): StepContextHook {
  if (isHook(value)) return value;
  throw new ServiceError(
    ServiceErrorCode.BAD_REQUEST,
    `${where}: ${field} ${HOOK_SHAPE}, got ${formatValue(value)}`,
    undefined,
    {
      retryable: false,
      metadata: { field },
    },
  );
}
