import { compensateSaga } from './orchestrator-compensation';
import type { SagaOrchestratorEvents } from './orchestrator-types';
import { runForward } from './run-forward';
import type { SagaHistory } from './saga-history';
import { type Run, type SagaRuntime, Suspended, suspend } from './saga-run';
import { toInstance } from './saga-view';
import { toServiceError } from './user-callbacks';

/** Where a driven saga goes when it ends: out of the active runs, into the history. */
export interface DriveTarget {
  active: Map<string, Run>;
  history: SagaHistory;
}

/**
 * Runs a saga to its end: forward, then compensation if needed, then records the outcome and
 * settles its waiters. When this orchestrator must let go of it (lease lost, store down,
 * closing) the saga is suspended instead: it stays active in the store for whoever claims it.
 * `started` are the steps the start already recorded running (none for a recovered saga).
 * Never rejects.
 */
export async function driveSaga(
  runtime: SagaRuntime,
  run: Run,
  started: string[],
  target: DriveTarget,
): Promise<void> {
  const { record } = run;
  try {
    if (record.status === 'running') {
      const failed = await runForward(runtime, run, started);
      if (failed !== undefined) {
        runtime.emitter.emit('saga:compensating', {
          sagaId: record.id,
          type: record.type,
          error: failed.error,
          failedStep: failed.step,
        });
      }
    }
    if (record.status === 'compensating') await compensateSaga(runtime, run);
    finish(runtime, run, target);
  } catch (error) {
    letGo(
      runtime,
      run,
      error instanceof Suspended ? error : new Suspended('store-error', toServiceError(error)),
      target,
    );
  }
}

function letGo(runtime: SagaRuntime, run: Run, suspended: Suspended, { active, history }: DriveTarget): void {
  const { record } = run;
  suspend(run, suspended);
  active.delete(record.id);
  history.totals.suspended++;
  const payload: SagaOrchestratorEvents['saga:suspended'] = {
    sagaId: record.id,
    type: record.type,
    reason: suspended.reason,
  };
  if (suspended.error) payload.error = suspended.error;
  runtime.logger.warn('saga suspended', {
    sagaId: record.id,
    reason: suspended.reason,
    error: suspended.error?.message,
  });
  runtime.emitter.emit('saga:suspended', payload);
  run.settle(suspended.toServiceError(record.id));
}

function finish(runtime: SagaRuntime, run: Run, { active, history }: DriveTarget): void {
  const { record } = run;
  const { emitter } = runtime;
  active.delete(record.id);
  const instance = toInstance(record, true);
  history.add(instance);
  const durationMs = (record.completedAt ?? runtime.clock.now()) - record.startedAt;
  if (record.status === 'completed') {
    emitter.emit('saga:completed', { sagaId: record.id, type: record.type, durationMs });
  } else if (record.status === 'compensated') {
    emitter.emit('saga:compensated', { sagaId: record.id, type: record.type, durationMs });
  } else {
    emitter.emit('saga:failed', {
      sagaId: record.id,
      type: record.type,
      compensationErrors: instance.compensationErrors,
    });
  }
  run.settle(instance);
}
