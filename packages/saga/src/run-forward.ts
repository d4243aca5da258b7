import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { stepIndex, uniqueDependencies } from './dag';
import { assertJson, deepFreeze, type JsonValue } from './json';
import { retryAttemptsPolicy } from './retry';
import { persist, type Run, type SagaRuntime, stepExecution } from './saga-run';
import { completedResults, fromStored, toStored } from './saga-view';
import { type RetryLike, runAttempts } from './step-runner';
import type { SagaRecord, SagaStepDefinition, StepState } from './store';
import { toServiceError } from './user-callbacks';

/** Why a saga must compensate: the error, and the step that failed (none for a cancel). */
export interface Failure {
  error: ServiceError;
  step: string | undefined;
}

interface Outcome {
  id: string;
  ok: boolean;
  result?: JsonValue;
  error?: ServiceError;
  durationMs: number;
}

/** Marks pending steps whose dependencies completed as running; returns their ids. */
export function markReady(record: SagaRecord, now: number): string[] {
  const ready: string[] = [];
  for (const def of record.steps) {
    const state = record.stepStates[def.id]!;
    if (state.status !== 'pending') continue;
    let met = true;
    for (const dep of uniqueDependencies(def)) {
      if (record.stepStates[dep]?.status !== 'completed') {
        met = false;
        break;
      }
    }
    if (!met) continue;
    state.status = 'running';
    state.attempts++;
    state.startedAt = now;
    ready.push(def.id);
  }
  return ready;
}

/**
 * Runs the DAG forward. Every outcome is written as soon as it is known, together with the
 * steps it makes ready (write-ahead: before they start), so a chain of n steps costs n + 1
 * writes; outcomes that arrive while a write is in flight share the next one. `started` are
 * the steps the start already recorded running (none for a recovered saga).
 * Returns the failure when the saga must compensate (status then `compensating`, not yet
 * written: the first compensation write carries it).
 */
export async function runForward(
  runtime: SagaRuntime,
  run: Run,
  started: string[],
): Promise<Failure | undefined> {
  const { record } = run;
  const { clock, emitter } = runtime;
  const byId = stepIndex(record.steps);
  const running = new Set<string>();
  // Outcomes arrive here; everything settled while a write was in flight is handled at once.
  const settled: Outcome[] = [];
  let wake: (() => void) | undefined;
  let failure: Failure | undefined;
  const launch = (ids: string[]): void => {
    for (const id of ids) {
      const state = record.stepStates[id]!;
      const def = byId.get(id)!;
      emitter.emit('step:started', {
        sagaId: record.id,
        stepId: id,
        service: def.service,
        action: def.action,
        execution: state.attempts,
        idempotencyKey: `${record.id}:${id}`,
      });
      running.add(id);
      void execute(runtime, run, def, state).then((outcome) => {
        settled.push(outcome);
        wake?.();
      });
    }
  };

  const failedBefore = Object.entries(record.stepStates).find(([, s]) => s.status === 'failed');
  const interrupted = record.steps.filter((d) => record.stepStates[d.id]!.status === 'running');
  const recovered = started.length === 0;
  if (failedBefore !== undefined || (recovered && runtime.options.recoveryPolicy === 'compensate')) {
    // Recovered after a failure (or by policy): steps left running may have run; undo them too.
    for (const def of interrupted) interrupt(record.stepStates[def.id]!);
    const step = failedBefore?.[0] ?? interrupted[0]?.id;
    const stored = failedBefore?.[1].error;
    failure = {
      step,
      error: stored
        ? fromStored(stored)
        : new ServiceError(
            ServiceErrorCode.INTERNAL_ERROR,
            'Saga interrupted by a crash and compensated by policy',
          ),
    };
    record.error ??= toStored(failure.error, step);
    record.status = 'compensating';
    return failure;
  }
  if (!recovered) launch(started);
  else {
    // Recovered: steps left running may have run; run them again under the same key.
    for (const def of interrupted) record.stepStates[def.id]!.attempts++;
    launch(interrupted.map((d) => d.id));
  }

  // Whether the record changed since it was last written (the start already wrote the roots).
  let dirty = false;
  for (;;) {
    if (failure === undefined && run.cancelError !== undefined) {
      failure = { error: run.cancelError, step: undefined };
    }
    if (failure === undefined) {
      const ready = markReady(record, clock.now());
      if (running.size === 0 && ready.length === 0) {
        record.status = 'completed';
        record.completedAt = clock.now();
      }
      // One write: the outcomes since the last one, and the steps about to start.
      if (dirty || ready.length > 0 || record.status === 'completed') await persist(runtime, run);
      dirty = false;
      if (record.status === 'completed') return undefined;
      launch(ready);
    } else if (running.size === 0) {
      // Not written here: the first compensation write carries it.
      record.status = 'compensating';
      record.error ??= toStored(failure.error, failure.step);
      return failure;
    } else if (dirty) {
      await persist(runtime, run);
      dirty = false;
    }
    if (settled.length === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (run.suspended) throw run.suspended;
    dirty = true;
    for (const outcome of settled.splice(0)) {
      running.delete(outcome.id);
      const state = record.stepStates[outcome.id]!;
      state.completedAt = clock.now();
      if (outcome.ok) {
        state.status = 'completed';
        state.result = deepFreeze(outcome.result!);
        record.completionOrder.push(outcome.id);
        emitter.emit('step:completed', {
          sagaId: record.id,
          stepId: outcome.id,
          durationMs: outcome.durationMs,
        });
        continue;
      }
      state.status = 'failed';
      state.error = toStored(outcome.error!);
      emitter.emit('step:failed', { sagaId: record.id, stepId: outcome.id, error: outcome.error! });
      if (failure === undefined) {
        failure = { error: outcome.error!, step: outcome.id };
        // Siblings stop: their results would only be undone.
        run.steps.abort(
          new ServiceError(
            ServiceErrorCode.CANCELLED,
            `Step '${outcome.id}' failed; saga is compensating`,
            undefined,
            { retryable: false },
          ),
        );
      }
    }
  }
}

/** Records a step a crash left running as failed with its outcome unknown, so it is undone too. */
function interrupt(state: StepState): void {
  state.status = 'failed';
  state.interrupted = true;
  state.error = {
    code: ServiceErrorCode.INTERNAL_ERROR,
    message: 'Interrupted: the orchestrator running the step stopped before its outcome was recorded',
    retryable: false,
  };
}

/** Runs one step's handler under its timeout and retries; never rejects. */
async function execute(
  runtime: SagaRuntime,
  run: Run,
  def: SagaStepDefinition,
  state: StepState,
): Promise<Outcome> {
  const { record } = run;
  const { clock, emitter } = runtime;
  const started = clock.now();
  try {
    const handler = runtime.handlers.step(def);
    if (handler === undefined) {
      throw new ServiceError(
        ServiceErrorCode.NOT_IMPLEMENTED,
        `No step handler registered for action '${def.action}'`,
        def.service,
        { retryable: false },
      );
    }
    const results = completedResults(record);
    const value = await runAttempts(
      (signal, attempt) => {
        if (attempt > 1) emitter.emit('step:retrying', { sagaId: record.id, stepId: def.id, attempt });
        return handler(def, record.context, stepExecution(record, def, state, attempt, signal, results));
      },
      {
        timeoutMs: def.timeout ?? runtime.options.defaultStepTimeoutMs,
        retry: retryFor(runtime, def.retryAttempts ?? 0),
        signal: run.steps.signal,
        clock,
        label: `Saga '${record.type}' step '${def.id}'`,
        service: def.service,
        hook: runtime.stepContext,
        kind: 'step',
        sagaId: record.id,
        sagaType: record.type,
        stepId: def.id,
      },
    );
    const result = value === undefined ? null : value;
    assertJson(result, `Saga '${record.type}' step '${def.id}' returned a result that`, {
      sagaId: record.id,
      step: def.id,
    });
    // Kept as a JSON copy: exactly what a resumed run reads back, and nothing a handler can
    // change later (or a proxy can answer differently) reaches the store.
    const stored = JSON.parse(JSON.stringify(result)) as JsonValue;
    return { id: def.id, ok: true, result: stored, durationMs: clock.now() - started };
  } catch (error) {
    return {
      id: def.id,
      ok: false,
      error: toServiceError(error, def.service),
      durationMs: clock.now() - started,
    };
  }
}

function retryFor(runtime: SagaRuntime, retries: number): RetryLike | undefined {
  const cache = runtime.stepRetries;
  if (!cache.has(retries)) cache.set(retries, retryAttemptsPolicy(retries, runtime.clock));
  return cache.get(retries);
}
