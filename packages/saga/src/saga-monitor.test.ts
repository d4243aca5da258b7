// The events of createSaga sagas through a SagaMonitor: the orchestrator's names and payloads,
// in order, for a saga that completes and one that is compensated; and the monitor's hook.
import { ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { badRequestFrom } from '../test/bad-request';
import { retryTimes } from '../test/retry-times';
import { createSaga } from './saga-builder';
import { SagaMonitor, type SagaMonitorEvents } from './saga-monitor';
import type { StepAttempt, StepContextHook } from './step-context';

const EVENTS: (keyof SagaMonitorEvents)[] = [
  'saga:started',
  'saga:completed',
  'saga:compensating',
  'saga:compensated',
  'saga:failed',
  'saga:cancelled',
  'step:started',
  'step:retrying',
  'step:completed',
  'step:failed',
  'compensation:started',
  'compensation:completed',
  'compensation:failed',
];

function recorded(monitor: SagaMonitor): Array<[string, Record<string, unknown>]> {
  const seen: Array<[string, Record<string, unknown>]> = [];
  for (const name of EVENTS) monitor.on(name, (e) => seen.push([name, e as Record<string, unknown>]));
  return seen;
}

describe('SagaMonitor', () => {
  it('reports a completed saga: started, each step with retries, completed, with its type', async () => {
    const monitor = new SagaMonitor();
    const seen = recorded(monitor);
    let tries = 0;
    const result = await createSaga({}, { sagaId: 'c-1', type: 'conversation', monitor })
      .step(
        'transcribe',
        () => {
          if (++tries < 2) throw new Error('flaky');
          return 'hi';
        },
        undefined,
        { service: 'asr', retry: retryTimes(2) },
      )
      .step('reply', () => 'ok')
      .execute();
    expect(result.success).toBe(true);
    expect(seen.map(([name]) => name)).toEqual([
      'saga:started',
      'step:started',
      'step:retrying',
      'step:completed',
      'step:started',
      'step:completed',
      'saga:completed',
    ]);
    expect(seen[0]![1]).toEqual({ sagaId: 'c-1', type: 'conversation', correlationId: undefined });
    expect(seen[1]![1]).toEqual({
      sagaId: 'c-1',
      stepId: 'transcribe',
      service: 'asr',
      action: 'transcribe',
      execution: 1,
      idempotencyKey: 'c-1:transcribe',
    });
    expect(seen[2]![1]).toEqual({ sagaId: 'c-1', stepId: 'transcribe', attempt: 2 });
    expect(seen[4]![1]).toMatchObject({ stepId: 'reply', service: undefined });
    expect(seen.at(-1)![1]).toMatchObject({
      sagaId: 'c-1',
      type: 'conversation',
      durationMs: expect.any(Number),
    });
  });

  it('reports a failed step, each compensation, and compensated or failed by the compensations', async () => {
    for (const undoFails of [false, true]) {
      const monitor = new SagaMonitor();
      const seen = recorded(monitor);
      await createSaga({}, { sagaId: 's', monitor, compensationRetry: retryTimes(1) })
        .step(
          'a',
          () => 1,
          () => undefined,
        )
        .step(
          'b',
          () => 2,
          () => {
            if (undoFails) throw new Error('cannot undo');
          },
        )
        .step('c', () => {
          throw new Error('down');
        })
        .execute();
      expect(seen.map(([name]) => name)).toEqual([
        'saga:started',
        ...[
          'step:started',
          'step:completed',
          'step:started',
          'step:completed',
          'step:started',
          'step:failed',
        ],
        'saga:compensating',
        'compensation:started',
        undoFails ? 'compensation:failed' : 'compensation:completed',
        'compensation:started',
        'compensation:completed',
        undoFails ? 'saga:failed' : 'saga:compensated',
      ]);
      expect(seen[0]![1]).toMatchObject({ type: 'saga' });
      expect(seen[6]![1]).toMatchObject({ stepId: 'c', error: { message: 'down' } });
      expect(seen[7]![1]).toMatchObject({ failedStep: 'c', error: { message: 'down' } });
      expect(seen[8]![1]).toEqual({ sagaId: 's', stepId: 'b', action: 'b' });
      if (undoFails) expect(seen.at(-1)![1]).toMatchObject({ compensationErrors: [{ step: 'b' }] });
    }
  });

  it('reports a saga its signal stops as cancelled, then compensated, as an orchestrator does', async () => {
    const monitor = new SagaMonitor();
    const seen = recorded(monitor);
    const controller = new AbortController();
    await createSaga({}, { sagaId: 'x', monitor })
      .step(
        'a',
        () => 1,
        () => undefined,
      )
      .step('b', (_ctx, step) => {
        controller.abort(new Error('user hung up'));
        // The step sees its signal abort and gives up.
        throw step.signal.reason;
      })
      .execute({ signal: controller.signal });
    expect(seen.map(([name]) => name).slice(-6)).toEqual([
      'step:failed',
      'saga:cancelled',
      'saga:compensating',
      'compensation:started',
      'compensation:completed',
      'saga:compensated',
    ]);
    expect(seen.find(([name]) => name === 'saga:cancelled')![1]).toEqual({
      sagaId: 'x',
      type: 'saga',
      reason: 'user hung up',
    });
  });

  it('reports no step that never started: stopped between steps, or before the first', async () => {
    const monitor = new SagaMonitor();
    const seen = recorded(monitor);
    const controller = new AbortController();
    // Stopped once a has completed, before b starts.
    monitor.on('step:completed', () => controller.abort(new Error('stop')));
    const result = await createSaga({}, { sagaId: 'y', monitor })
      .step('a', () => 1)
      .step('b', () => 2)
      .execute({ signal: controller.signal });
    expect(result.failedStep).toBe('b');
    expect(seen.map(([name]) => name)).toEqual([
      'saga:started',
      'step:started',
      'step:completed',
      'saga:cancelled',
      'saga:compensating',
      'saga:compensated',
    ]);
    const before = new SagaMonitor();
    const early = recorded(before);
    await createSaga({}, { sagaId: 'z', monitor: before })
      .step('a', () => 1)
      .execute({ signal: AbortSignal.abort(new Error('gone')) });
    expect(early.map(([name]) => name)).toEqual([
      'saga:started',
      'saga:cancelled',
      'saga:compensating',
      'saga:compensated',
    ]);
  });

  it('a step that fails on its own while the signal aborts later is compensated, not cancelled', async () => {
    const monitor = new SagaMonitor();
    const seen = recorded(monitor);
    const controller = new AbortController();
    await createSaga({}, { sagaId: 'w', monitor, compensationRetry: retryTimes(1) })
      .step(
        'a',
        () => 1,
        () => {
          // The saga is being undone for b's own failure when the caller gives up.
          controller.abort(new Error('too late'));
        },
      )
      .step('b', () => {
        throw new Error('b broke');
      })
      .execute({ signal: controller.signal });
    expect(seen.map(([name]) => name)).not.toContain('saga:cancelled');
    expect(seen.at(-1)![0]).toBe('saga:compensated');
  });

  it("reports the failed step's own compensation first with compensateOnFailure", async () => {
    const monitor = new SagaMonitor();
    const seen = recorded(monitor);
    await createSaga({}, { sagaId: 'v', monitor, compensationRetry: retryTimes(1) })
      .step(
        'a',
        () => 1,
        () => undefined,
      )
      .step(
        'b',
        () => {
          throw new Error('half done');
        },
        () => undefined,
        { compensateOnFailure: true },
      )
      .execute();
    const undone = seen.filter(([name]) => name === 'compensation:completed').map(([, e]) => e.stepId);
    expect(undone).toEqual(['b', 'a']);
  });

  it("runs attempts in the monitor's hook, a saga's own stepContext winning, and removes it", async () => {
    const monitor = new SagaMonitor();
    const calls: string[] = [];
    const hook = (who: string): StepContextHook => ({
      runStep: <T>(at: StepAttempt, fn: () => T): T => {
        calls.push(`${who} step ${at.stepId} ${at.sagaType}`);
        return fn();
      },
      runCompensation: <T>(at: StepAttempt, fn: () => T): T => {
        calls.push(`${who} undo ${at.stepId}`);
        return fn();
      },
    });
    const remove = monitor.useStepContext(hook('monitor'));
    await createSaga({}, { monitor, type: 't' })
      .step('x', () => 1)
      .execute();
    await createSaga({}, { monitor, stepContext: hook('own') })
      .step('y', () => 1)
      .execute();
    remove();
    await createSaga({}, { monitor })
      .step('z', () => 1)
      .execute();
    expect(calls).toEqual(['monitor step x t', 'own step y saga']);
  });

  it('refuses what is not a monitor or a hook, naming the option', () => {
    const error = badRequestFrom(() => createSaga({}, { monitor: {} as SagaMonitor }));
    expect(error.message).toContain('monitor');
    expect(() => new SagaMonitor().useStepContext({} as StepContextHook)).toThrow(
      expect.objectContaining({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field: 'hook' } }),
    );
  });
});
