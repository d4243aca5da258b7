import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { type CompensationTask, runCompensations } from './compensation';
import { stepIndex } from './dag';
import { defaultCompensationRetry } from './retry';
import { persist, type Run, type SagaRuntime, stepExecution } from './saga-run';
import { completedResults, toStored } from './saga-view';
import type { SagaRecord, SagaStepDefinition, StepState } from './store';

interface SagaCompensationTask extends CompensationTask {
  def: SagaStepDefinition;
  state: StepState;
}

/**
 * What a stored saga must undo, in order: first the steps that failed or were interrupted and
 * may have had an effect (`compensateOnFailure`, a crash, a compensation left running), then
 * the completed steps in reverse completion order; only steps with a compensation.
 */
function undoOrder(record: SagaRecord): SagaStepDefinition[] {
  const byId = stepIndex(record.steps);
  const completed = new Set(record.completionOrder);
  const undoFirst = record.steps.filter((d) => {
    const s = record.stepStates[d.id]!;
    if (completed.has(d.id)) return false;
    return (s.status === 'failed' && (d.compensateOnFailure || s.interrupted)) || s.status === 'compensating';
  });
  const reversed: SagaStepDefinition[] = [];
  for (let i = record.completionOrder.length - 1; i >= 0; i--)
    reversed.push(byId.get(record.completionOrder[i]!)!);
  return [...undoFirst, ...reversed].filter((d) => {
    const s = record.stepStates[d.id]!;
    return (
      d.compensationAction !== undefined &&
      (s.status === 'completed' || s.status === 'compensating' || s.status === 'failed')
    );
  });
}

/**
 * Undoes, through the one compensation engine, what a saga's steps may have done. Write-ahead
 * as forward: each compensation is recorded `compensating` before it runs and its outcome
 * after (one write per compensation), so a crash leaves a log that says what may have been
 * undone. Ends the saga `compensated`, or `failed` when a compensation kept failing.
 * Throws {@link Suspended} when this orchestrator must let go of the saga.
 */
export async function compensateSaga(runtime: SagaRuntime, run: Run): Promise<void> {
  const { record } = run;
  const { clock, emitter } = runtime;
  const completed = new Set(record.completionOrder);
  const retry = runtime.options.compensationRetry ?? defaultCompensationRetry(clock);
  const results = completedResults(record);
  const tasks = undoOrder(record).map((def): SagaCompensationTask => {
    const state = record.stepStates[def.id]!;
    const action = def.compensationAction!;
    const handler = runtime.handlers.compensation(def);
    const failed = state.status === 'failed' || (state.status === 'compensating' && !completed.has(def.id));
    return {
      def,
      state,
      step: def.id,
      label: `Compensation of saga '${record.type}' step '${def.id}'`,
      service: def.service,
      timeoutMs: def.timeout ?? runtime.options.defaultStepTimeoutMs,
      // A missing handler is not worth retrying: it fails once, recorded like any other failure.
      retry: handler === undefined ? undefined : retry,
      attempt: (signal, attempt) => {
        if (handler === undefined) {
          throw new ServiceError(
            ServiceErrorCode.NOT_IMPLEMENTED,
            `No compensation handler registered for '${action}'`,
            def.service,
            { retryable: false },
          );
        }
        return handler(def, record.context, {
          ...stepExecution(record, def, state, attempt, signal, results),
          result: failed ? undefined : state.result,
          failed,
        });
      },
    };
  });
  await runCompensations(tasks, {
    sagaId: record.id,
    sagaType: record.type,
    hook: runtime.stepContext,
    clock,
    logger: runtime.logger,
    signal: run.compensations.signal,
    starting: async ({ def, state }) => {
      state.status = 'compensating';
      await persist(runtime, run);
      emitter.emit('compensation:started', {
        sagaId: record.id,
        stepId: def.id,
        action: def.compensationAction!,
      });
    },
    settled: ({ def, state }, error) => {
      if (run.suspended) throw run.suspended;
      if (error === undefined) {
        state.status = 'compensated';
        emitter.emit('compensation:completed', { sagaId: record.id, stepId: def.id });
        return;
      }
      state.status = 'compensation_failed';
      state.compensationError = toStored(error);
      emitter.emit('compensation:failed', { sagaId: record.id, stepId: def.id, error });
    },
  });
  const anyFailed = Object.values(record.stepStates).some((s) => s.status === 'compensation_failed');
  record.status = anyFailed ? 'failed' : 'compensated';
  record.completedAt = clock.now();
  await persist(runtime, run);
}
