import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { badRequestFrom } from '../test/bad-request';
import { retryTimes } from '../test/retry-times';
import { SagaOrchestrator } from './orchestrator';
import { createSaga } from './saga-builder';
import type { StepAttempt, StepContextHook } from './step-context';

/**
 * A hook that records each call, marks its scope (so a handler can tell it runs inside), and
 * keeps what `fn` gave back (a value, a promise, or what it threw): the runner's to read.
 */
function recordingHook() {
  const calls: Array<{ kind: 'step' | 'compensation'; at: StepAttempt; out: unknown }> = [];
  let depth = 0;
  const wrap =
    (kind: 'step' | 'compensation') =>
    <T>(at: StepAttempt, fn: () => T): T => {
      depth++;
      const call = { kind, at: { ...at }, out: undefined as unknown };
      calls.push(call);
      try {
        call.out = fn();
        return call.out as T;
      } catch (error) {
        call.out = error;
        throw error;
      } finally {
        depth--;
      }
    };
  const hook: StepContextHook = { runStep: wrap('step'), runCompensation: wrap('compensation') };
  return { hook, calls, inScope: () => depth > 0 };
}

const orchestrators: SagaOrchestrator[] = [];
afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});
function make(): SagaOrchestrator {
  const o = new SagaOrchestrator({ compensationRetry: retryTimes(3) });
  orchestrators.push(o);
  return o;
}

const declined = new ServiceError(ServiceErrorCode.BAD_REQUEST, 'card declined', 'pay', { retryable: false });

describe('SagaOrchestrator.useStepContext', () => {
  it('runs every step attempt and every compensation attempt inside the hook, outcomes unchanged', async () => {
    const o = make();
    const { hook, calls, inScope } = recordingHook();
    o.useStepContext(hook);
    const seen: boolean[] = [];
    let reserveTries = 0;
    o.registerStepHandler('reserve', async () => {
      seen.push(inScope());
      await Promise.resolve();
      if (++reserveTries === 1) throw new Error('stock busy');
      return { held: 2 };
    });
    o.registerStepHandler('charge', () => {
      seen.push(inScope());
      throw declined;
    });
    let releaseTries = 0;
    o.registerCompensationHandler('release', () => {
      seen.push(inScope());
      if (++releaseTries === 1) throw new Error('stock busy');
    });
    const id = await o.startSaga(
      'order',
      [
        {
          id: 'reserve',
          name: 'reserve',
          service: 'stock',
          action: 'reserve',
          compensationAction: 'release',
          retryAttempts: 1,
        },
        { id: 'charge', name: 'charge', service: 'pay', action: 'charge', dependencies: ['reserve'] },
      ],
      {},
    );
    const saga = await o.waitForSaga(id);
    expect(saga.status).toBe('compensated');
    expect(saga.stepResults.get('reserve')).toEqual({ held: 2 });
    expect(saga.error).toMatchObject({ code: ServiceErrorCode.BAD_REQUEST, message: 'card declined' });
    expect(seen).toEqual([true, true, true, true, true]);
    expect(calls.map((c) => [c.kind, c.at])).toEqual([
      ['step', { sagaId: id, sagaType: 'order', stepId: 'reserve', service: 'stock', attempt: 1 }],
      ['step', { sagaId: id, sagaType: 'order', stepId: 'reserve', service: 'stock', attempt: 2 }],
      ['step', { sagaId: id, sagaType: 'order', stepId: 'charge', service: 'pay', attempt: 1 }],
      ['compensation', { sagaId: id, sagaType: 'order', stepId: 'reserve', service: 'stock', attempt: 1 }],
      ['compensation', { sagaId: id, sagaType: 'order', stepId: 'reserve', service: 'stock', attempt: 2 }],
    ]);
    // The hook was handed the handler's own outcome: its promise, and its throw as thrown.
    await expect(calls[1]!.out).resolves.toEqual({ held: 2 });
    expect(calls[2]!.out).toBe(declined);
  });

  it('stops wrapping once removed, and a newer hook is not removed by an older removal', async () => {
    const o = make();
    const first = recordingHook();
    const second = recordingHook();
    const removeFirst = o.useStepContext(first.hook);
    const removeSecond = o.useStepContext(second.hook);
    removeFirst();
    o.registerStepHandler('a', () => 1);
    await o.waitForSaga(await o.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'a' }], {}));
    expect(first.calls).toEqual([]);
    expect(second.calls).toHaveLength(1);
    removeSecond();
    await o.waitForSaga(await o.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'a' }], {}));
    expect(second.calls).toHaveLength(1);
  });

  it('refuses a hook without runStep and runCompensation, naming it', () => {
    const o = make();
    const error = badRequestFrom(() => o.useStepContext({ runStep: (_a, fn) => fn() } as StepContextHook));
    expect(error).toMatchObject({ metadata: { field: 'hook' } });
    expect(error.message).toContain('runCompensation');
  });
});

describe('createSaga stepContext', () => {
  it('runs every action and compensation attempt of a builder saga inside the hook', async () => {
    const { hook, calls, inScope } = recordingHook();
    const seen: boolean[] = [];
    let tries = 0;
    const result = await createSaga({}, { sagaId: 'b1', stepContext: hook, compensationRetry: retryTimes(1) })
      .step(
        'reserve',
        () => {
          seen.push(inScope());
          if (++tries === 1) throw new Error('busy');
          return 'held';
        },
        () => void seen.push(inScope()),
        { retry: retryTimes(2) },
      )
      .step('charge', () => {
        seen.push(inScope());
        throw declined;
      })
      .execute();
    expect(result).toMatchObject({ success: false, failedStep: 'charge', compensatedSteps: ['reserve'] });
    expect(result.results.reserve).toBe('held');
    expect(result.error).toBe(declined);
    expect(seen).toEqual([true, true, true, true]);
    const at = (stepId: string, attempt: number) => ({
      sagaId: 'b1',
      sagaType: 'saga',
      stepId,
      service: undefined,
      attempt,
    });
    expect(calls.map((c) => [c.kind, c.at])).toEqual([
      ['step', at('reserve', 1)],
      ['step', at('reserve', 2)],
      ['step', at('charge', 1)],
      ['compensation', at('reserve', 1)],
    ]);
    expect(calls[2]!.out).toBe(declined);
  });

  it('refuses a stepContext that is not a hook, naming the option', () => {
    const error = badRequestFrom(() => createSaga({}, { stepContext: {} as StepContextHook }));
    expect(error.message).toContain('stepContext');
  });
});
