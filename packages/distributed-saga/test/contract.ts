import type { CompensationHandler, SagaOrchestrator, SagaStepDefinition, StepHandler } from '@clone/saga';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';

/** One way of running saga steps: in the orchestrator (local) or in a participant (distributed). */
export interface SagaHarness {
  readonly orchestrator: SagaOrchestrator;
  /** The service the steps name: where the handlers registered through the harness run. */
  readonly service: string;
  registerStepHandler(action: string, handler: StepHandler): void;
  registerCompensationHandler(action: string, handler: CompensationHandler): void;
  /** Resolves once the registered handlers can be reached (participants announced). */
  ready(): Promise<void>;
  /** Commands awaiting a reply, by service (the distributed modes' metric); none locally. */
  waitingByService?(): Record<string, number>;
  close(): Promise<void>;
}

/** A handler that never finishes on its own (it honours its signal, so closing does not wait). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
  );
}

function step(service: string, id: string, extra: Partial<SagaStepDefinition> = {}): SagaStepDefinition {
  return { id, name: id, service, action: id, compensationAction: `undo_${id}`, timeout: 10_000, ...extra };
}

/**
 * What a saga does whether its steps run in the orchestrator's process or in a participant's
 * behind the event bus: the same definitions, handlers and assertions for every mode.
 */
export function sagaContract(mode: string, make: () => Promise<SagaHarness>): void {
  describe(`saga contract (${mode})`, () => {
    let h: SagaHarness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    async function harness(): Promise<SagaHarness> {
      h = await make();
      return h;
    }

    it('runs a chain in order, handing each step the results and context', async () => {
      const s = await harness();
      const seen: string[] = [];
      for (const id of ['a', 'b', 'c', 'd']) {
        s.registerStepHandler(id, (def, context: { n: number }, execution) => {
          seen.push(`${def.id}:${Object.keys(execution.results).join(',')}`);
          return { step: def.id, n: context.n, key: execution.idempotencyKey };
        });
        s.registerCompensationHandler(`undo_${id}`, () => undefined);
      }
      await s.ready();
      const steps = [
        step(s.service, 'a'),
        step(s.service, 'b', { dependencies: ['a'] }),
        step(s.service, 'c', { dependencies: ['b'] }),
        step(s.service, 'd', { dependencies: ['c'] }),
      ];
      const id = await s.orchestrator.startSaga('chain', steps, { n: 7 }, 'corr-1');
      const done = await s.orchestrator.waitForSaga(id);
      expect(done.status).toBe('completed');
      expect(seen).toEqual(['a:', 'b:a', 'c:a,b', 'd:a,b,c']);
      expect(done.stepResults.get('d')).toEqual({ step: 'd', n: 7, key: `${id}:d` });
      expect(done.waitingOn).toEqual([]);
    });

    it('shows the service a running step waits on', async () => {
      const s = await harness();
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let entered!: () => void;
      const started = new Promise<void>((r) => {
        entered = r;
      });
      s.registerStepHandler('slow', async () => {
        entered();
        await held;
        return 1;
      });
      s.registerCompensationHandler('undo_slow', () => undefined);
      await s.ready();
      const startedOn: string[] = [];
      s.orchestrator.on('step:started', (e) => void startedOn.push(`${e.stepId}@${e.service}`));
      const id = await s.orchestrator.startSaga('wait', [step(s.service, 'slow')], {});
      await started;
      expect(startedOn).toEqual([`slow@${s.service}`]);
      expect(s.orchestrator.getSagaStatus(id)?.waitingOn).toEqual([
        { stepId: 'slow', service: s.service, status: 'running' },
      ]);
      expect(s.orchestrator.getActiveSagas().map((x) => x.waitingOn[0]?.service)).toEqual([s.service]);
      if (s.waitingByService) expect(s.waitingByService()).toEqual({ [s.service]: 1 });
      release();
      expect((await s.orchestrator.waitForSaga(id)).status).toBe('completed');
      if (s.waitingByService) expect(s.waitingByService()).toEqual({});
    });

    it('compensates completed steps in reverse order when a step fails, keeping the error', async () => {
      const s = await harness();
      const undone: string[] = [];
      for (const id of ['a', 'b', 'c']) {
        s.registerStepHandler(id, (def) => {
          if (def.id === 'c') {
            throw new ServiceError(ServiceErrorCode.CONFLICT, 'c refused', undefined, { retryable: false });
          }
          return `${def.id}-done`;
        });
        s.registerCompensationHandler(`undo_${id}`, (def, _ctx, execution) => {
          undone.push(`${def.id}<-${String(execution.result)}`);
        });
      }
      await s.ready();
      const id = await s.orchestrator.startSaga(
        'fails',
        [
          step(s.service, 'a'),
          step(s.service, 'b', { dependencies: ['a'] }),
          step(s.service, 'c', { dependencies: ['b'] }),
        ],
        {},
      );
      const done = await s.orchestrator.waitForSaga(id);
      expect(done.status).toBe('compensated');
      expect(undone).toEqual(['b<-b-done', 'a<-a-done']);
      expect(done.error).toMatchObject({ code: 'CONFLICT', message: 'c refused' });
      expect(done.stepStates.c?.status).toBe('failed');
    });

    it("retries a plain Error as the step's retryAttempts say", async () => {
      const s = await harness();
      let calls = 0;
      s.registerStepHandler('flaky', () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return calls;
      });
      s.registerCompensationHandler('undo_flaky', () => undefined);
      await s.ready();
      const id = await s.orchestrator.startSaga(
        'retry',
        [step(s.service, 'flaky', { retryAttempts: 2 })],
        {},
      );
      const done = await s.orchestrator.waitForSaga(id);
      expect(done.status).toBe('completed');
      expect(done.stepResults.get('flaky')).toBe(3);
      expect(calls).toBe(3);
    });

    it('fails a step that outlives its timeout and compensates the steps before it', async () => {
      const s = await harness();
      const undone: string[] = [];
      s.registerStepHandler('quick', () => 'ok');
      s.registerCompensationHandler('undo_quick', () => void undone.push('quick'));
      s.registerStepHandler('stuck', (_def, _ctx, execution) => untilAborted(execution.signal));
      s.registerCompensationHandler('undo_stuck', () => void undone.push('stuck'));
      await s.ready();
      const id = await s.orchestrator.startSaga(
        'timeout',
        [step(s.service, 'quick'), step(s.service, 'stuck', { dependencies: ['quick'], timeout: 300 })],
        {},
      );
      const done = await s.orchestrator.waitForSaga(id);
      expect(done.status).toBe('compensated');
      expect(done.error?.code).toBe('TIMEOUT');
      expect(undone).toEqual(['quick']);
    });

    it('cancelSaga stops a running saga and compensates what completed', async () => {
      const s = await harness();
      const undone: string[] = [];
      let entered!: () => void;
      const started = new Promise<void>((r) => {
        entered = r;
      });
      s.registerStepHandler('first', () => 1);
      s.registerCompensationHandler('undo_first', () => void undone.push('first'));
      s.registerStepHandler('second', (_def, _ctx, execution) => {
        entered();
        return untilAborted(execution.signal);
      });
      s.registerCompensationHandler('undo_second', () => void undone.push('second'));
      await s.ready();
      const id = await s.orchestrator.startSaga(
        'cancel',
        [step(s.service, 'first'), step(s.service, 'second', { dependencies: ['first'] })],
        {},
      );
      await started;
      const done = await s.orchestrator.cancelSaga(id, 'operator said so');
      expect(done?.status).toBe('compensated');
      expect(done?.cancelReason).toBe('operator said so');
      expect(undone).toEqual(['first']);
    });

    it('runs independent steps of the DAG side by side', async () => {
      const s = await harness();
      let running = 0;
      let most = 0;
      let bothIn!: () => void;
      const together = new Promise<void>((r) => {
        bothIn = r;
      });
      for (const id of ['root', 'left', 'right', 'join']) {
        s.registerStepHandler(id, async (def) => {
          running++;
          most = Math.max(most, running);
          if (running === 2) bothIn();
          if (def.id === 'left' || def.id === 'right') await together;
          running--;
          return def.id;
        });
        s.registerCompensationHandler(`undo_${id}`, () => undefined);
      }
      await s.ready();
      const id = await s.orchestrator.startSaga(
        'dag',
        [
          step(s.service, 'root'),
          step(s.service, 'left', { dependencies: ['root'] }),
          step(s.service, 'right', { dependencies: ['root'] }),
          step(s.service, 'join', { dependencies: ['left', 'right'] }),
        ],
        {},
      );
      const done = await s.orchestrator.waitForSaga(id);
      expect(done.status).toBe('completed');
      expect(most).toBe(2);
      expect(done.completedSteps.at(-1)).toBe('join');
    });

    it('refuses at startSaga, naming the step, a compensation nobody registered', async () => {
      const s = await harness();
      s.registerStepHandler('only', () => 1);
      await s.ready();
      await expect(
        s.orchestrator.startSaga(
          'bad',
          [step(s.service, 'only', { compensationAction: 'nobody_has_it' })],
          {},
        ),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining("step 'only'") });
      expect(s.orchestrator.getActiveSagas()).toEqual([]);
    });
  });
}
