import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { elementsIterated } from '../test/count-iteration';
import { retryTimes } from '../test/retry-times';
import { InMemorySagaStore } from './memory-store';
import { SagaOrchestrator } from './orchestrator';
import type { SagaOrchestratorEvents } from './orchestrator-types';
import type { RetryLike } from './step-runner';
import type { SagaStepDefinition } from './store';

const noRetry: RetryLike = { execute: (fn, signal) => Promise.resolve(fn({ signal: signal!, attempt: 1 })) };

function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const step = (
  id: string,
  extra: { [K in keyof SagaStepDefinition]?: SagaStepDefinition[K] | undefined } = {},
): SagaStepDefinition =>
  JSON.parse(
    JSON.stringify({
      id,
      name: id,
      service: `${id}-service`,
      action: id,
      compensationAction: `undo_${id}`,
      ...extra,
    }),
  );

const orchestrators: SagaOrchestrator[] = [];
function make(options: ConstructorParameters<typeof SagaOrchestrator>[0] = {}): SagaOrchestrator {
  const o = new SagaOrchestrator({ compensationRetry: noRetry, ...options });
  orchestrators.push(o);
  return o;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});

/** Registers trivial handlers that log to `log` for the given ids. */
function handlers(o: SagaOrchestrator, ids: string[], log: string[]): void {
  for (const id of ids) {
    o.registerStepHandler(id, (_step, _ctx, exec) => {
      log.push(id);
      return { id, key: exec.idempotencyKey };
    });
    o.registerCompensationHandler(`undo_${id}`, () => void log.push(`undo ${id}`));
  }
}

describe('SagaOrchestrator', () => {
  it('runs a chain of data-defined steps, with handlers receiving step, context and execution', async () => {
    const o = make();
    const events: string[] = [];
    for (const name of ['saga:started', 'step:started', 'step:completed', 'saga:completed'] as const) {
      o.on(name, (e: SagaOrchestratorEvents[typeof name]) =>
        events.push(`${name} ${'stepId' in e ? e.stepId : ''}`.trim()),
      );
    }
    o.registerStepHandler('validate_sample', async (s, context: { sampleId: string }, exec) => {
      expect(s.id).toBe('validate_sample');
      expect(exec.execution).toBe(1);
      return { validated: true, sampleId: context.sampleId };
    });
    o.registerStepHandler('process_pdf', async (_s, _c, exec) => ({
      pages: 3,
      from: exec.results.validate_sample,
    }));
    o.registerCompensationHandler('revert_validation', () => undefined);
    const id = await o.startSaga(
      'sample_processing_workflow',
      [
        {
          id: 'validate_sample',
          name: 'Validate',
          service: 'sample-service',
          action: 'validate_sample',
          compensationAction: 'revert_validation',
          timeout: 30000,
          retryAttempts: 2,
        },
        {
          id: 'process_pdf',
          name: 'Process PDF',
          service: 'ai-service',
          action: 'process_pdf',
          timeout: 120000,
          dependencies: ['validate_sample'],
        },
      ],
      { sampleId: 's-1' },
      'corr-1',
    );
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('completed');
    expect(done.correlationId).toBe('corr-1');
    expect(done.stepResults.get('process_pdf')).toEqual({
      pages: 3,
      from: { validated: true, sampleId: 's-1' },
    });
    expect(done.completedSteps).toEqual(['validate_sample', 'process_pdf']);
    expect(events).toEqual([
      'saga:started',
      'step:started validate_sample',
      'step:completed validate_sample',
      'step:started process_pdf',
      'step:completed process_pdf',
      'saga:completed',
    ]);
    expect(o.getSagaStatus(id)?.status).toBe('completed');
    expect(o.getSagaHistory().map((s) => s.id)).toEqual([id]);
    expect(o.getActiveSagas()).toEqual([]);
    expect((await o.loadSaga(id))?.status).toBe('completed');
  });

  it('runs independent steps concurrently and a join after both (DAG)', async () => {
    const o = make();
    const gates = { b: deferred(), c: deferred() };
    const running = new Set<string>();
    let maxConcurrent = 0;
    const enter = (id: string): void => {
      running.add(id);
      maxConcurrent = Math.max(maxConcurrent, running.size);
    };
    o.registerStepHandler('a', () => 'a');
    for (const id of ['b', 'c'] as const) {
      o.registerStepHandler(id, async () => {
        enter(id);
        await gates[id].promise;
        running.delete(id);
        return id;
      });
    }
    o.registerStepHandler('d', (_s, _c, exec) => Object.keys(exec.results).sort());
    const started: string[] = [];
    o.on('step:started', (e) => started.push(e.stepId));
    const id = await o.startSaga(
      'diamond',
      [
        { id: 'a', name: 'a', service: 's', action: 'a' },
        { id: 'b', name: 'b', service: 's', action: 'b', dependencies: ['a'] },
        { id: 'c', name: 'c', service: 's', action: 'c', dependencies: ['a'] },
        { id: 'd', name: 'd', service: 's', action: 'd', dependencies: ['b', 'c'] },
      ],
      {},
    );
    await vi.waitFor(() => expect(running.size).toBe(2));
    expect(started).toEqual(['a', 'b', 'c']);
    gates.c.resolve();
    await vi.waitFor(() => expect(running.size).toBe(1));
    expect(started).toEqual(['a', 'b', 'c']);
    gates.b.resolve();
    const done = await o.waitForSaga(id);
    expect(maxConcurrent).toBe(2);
    expect(done.completedSteps).toEqual(['a', 'c', 'b', 'd']);
    expect(done.stepResults.get('d')).toEqual(['a', 'b', 'c']);
  });

  it('rejects invalid sagas at start and stores nothing', async () => {
    const store = new InMemorySagaStore();
    const o = make({ store });
    handlers(o, ['a', 'b'], []);
    const rejects = async (steps: unknown, context: unknown, text: string): Promise<void> => {
      const error = await o.startSaga('t', steps as SagaStepDefinition[], context).catch((e: unknown) => e);
      expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST), String(error)).toBe(true);
      expect((error as Error).message).toContain(text);
    };
    await rejects(
      [step('a', { dependencies: ['b'] }), step('b', { dependencies: ['a'] })],
      {},
      'cycle: a, b',
    );
    await rejects([step('a', { dependencies: ['zzz'] })], {}, "unknown step 'zzz'");
    await rejects([step('a'), step('a')], {}, "duplicate step id 'a'");
    await rejects([step('a', { action: 'nope' })], {}, "action 'nope', which has no registered step handler");
    await rejects([step('a', { compensationAction: 'nope' })], {}, "compensation 'nope'");
    await rejects([step('a', { timeout: 0 })], {}, 'timeout');
    await rejects(
      [step('a', { timeout: 2 ** 31 })],
      {},
      "step 'a': timeout must be an integer number of milliseconds",
    );
    await rejects([], {}, 'at least one step');
    await rejects([step('a')], { when: new Date() }, '$.when is a Date');
    await rejects([step('a')], { n: 10n }, '$.n is a bigint');
    expect(store.writes).toBe(0);
  });

  it('runs a step that lists one dependency 30,000 times, once that dependency completed', async () => {
    // The quadratic dependency check blocked the event loop for about 40 s on this saga.
    const o = make();
    const log: string[] = [];
    handlers(o, ['a', 'b'], log);
    const id = await o.startSaga(
      't',
      [step('a'), step('b', { dependencies: Array.from({ length: 30_000 }, () => 'a') })],
      {},
    );
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('completed');
    expect(log).toEqual(['a', 'b']);
    expect(done.steps[1]!.dependencies).toHaveLength(30_000);
  });

  it('starts and schedules a saga with work linear in its dependencies, repeats included (counted)', async () => {
    const o = make();
    handlers(o, ['a', 'b'], []);
    const run = async (repeats: number): Promise<void> => {
      const steps = [step('a'), step('b', { dependencies: Array.from({ length: repeats }, () => 'a') })];
      expect((await o.waitForSaga(await o.startSaga('t', steps, {}))).status).toBe('completed');
    };
    await run(1); // warm: what every saga costs whatever its size
    const few = await elementsIterated(() => run(3_000));
    expect(few).toBeLessThan(10 * 3_000);
    const many = await elementsIterated(() => run(30_000));
    expect(many).toBeLessThan(10 * 30_000);
    expect(many / few).toBeLessThan(11);
  });

  it('compensates completed steps in reverse completion order, not the failed one', async () => {
    const o = make();
    const log: string[] = [];
    handlers(o, ['a', 'b', 'c'], log);
    const cDone = deferred();
    o.registerStepHandler('b', async () => {
      await cDone.promise;
      log.push('b');
      return 'b';
    });
    o.registerStepHandler('c', () => {
      log.push('c');
      cDone.resolve();
      return 'c';
    });
    o.registerStepHandler('fail', () => {
      throw new ServiceError(ServiceErrorCode.TTS_FAILED, 'tts down');
    });
    o.registerCompensationHandler('undo_fail', () => void log.push('undo fail'));
    const events: string[] = [];
    o.on('saga:compensating', (e) => events.push(`compensating ${e.failedStep} ${e.error.code}`));
    o.on('compensation:completed', (e) => events.push(`undone ${e.stepId}`));
    o.on('saga:compensated', () => events.push('compensated'));
    const id = await o.startSaga(
      'rollback',
      [
        step('a'),
        step('b', { dependencies: ['a'] }),
        step('c', { dependencies: ['a'] }),
        step('fail', { action: 'fail', dependencies: ['b', 'c'] }),
      ],
      {},
    );
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('compensated');
    expect(done.error?.code).toBe(ServiceErrorCode.TTS_FAILED);
    expect(done.stepStates.fail?.status).toBe('failed');
    expect(log).toEqual(['a', 'c', 'b', 'undo b', 'undo c', 'undo a']);
    expect(events).toEqual([
      'compensating fail TTS_FAILED',
      'undone b',
      'undone c',
      'undone a',
      'compensated',
    ]);
  });

  it('records compensation failures after retries, still runs the others, and ends failed', async () => {
    const o = make({ compensationRetry: retryTimes(3) });
    const log: string[] = [];
    handlers(o, ['a', 'b', 'c'], log);
    let undoBCalls = 0;
    o.registerCompensationHandler('undo_b', () => {
      undoBCalls++;
      throw new Error('inventory service gone');
    });
    o.registerStepHandler('c', () => {
      throw new Error('c failed');
    });
    const id = await o.startSaga(
      't',
      [step('a'), step('b', { dependencies: ['a'] }), step('c', { dependencies: ['b'] })],
      {},
    );
    const done = await o.waitForSaga(id);
    expect(undoBCalls).toBe(3);
    expect(log).toEqual(['a', 'b', 'undo a']);
    expect(done.status).toBe('failed');
    expect(done.stepStates.b?.status).toBe('compensation_failed');
    expect(done.stepStates.a?.status).toBe('compensated');
    expect(done.compensationErrors.map((f) => [f.step, f.error.message])).toEqual([
      ['b', 'inventory service gone'],
    ]);
    expect((await o.healthCheck()).totals.failed).toBe(1);
  });

  it('times out a step that never answers and compensates', async () => {
    vi.useFakeTimers();
    const o = make();
    const log: string[] = [];
    handlers(o, ['a'], log);
    let signalReason: unknown;
    o.registerStepHandler('hang', (_s, _c, exec) => {
      exec.signal.addEventListener('abort', () => {
        signalReason = exec.signal.reason;
      });
      return new Promise(() => {});
    });
    const id = await o.startSaga(
      't',
      [
        step('a'),
        step('hang', { action: 'hang', compensationAction: undefined, timeout: 5_000, dependencies: ['a'] }),
      ],
      {},
    );
    await vi.advanceTimersByTimeAsync(4_999);
    expect(o.getSagaStatus(id)?.status).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    const done = await o.waitForSaga(id);
    expect(isServiceError(signalReason, ServiceErrorCode.TIMEOUT)).toBe(true);
    expect(done.status).toBe('compensated');
    expect(done.error?.code).toBe(ServiceErrorCode.TIMEOUT);
    expect(done.error?.message).toContain("step 'hang' timed out after 5000 ms");
    expect(log).toEqual(['a', 'undo a']);
  });

  it('cancels a running saga: in-flight steps abort, nothing new starts, completed steps are undone', async () => {
    const o = make();
    const log: string[] = [];
    handlers(o, ['a', 'b', 'c'], log);
    const entered = deferred();
    let aborted = false;
    o.registerStepHandler('b', (_s, _c, exec) => {
      entered.resolve();
      return new Promise((_, reject) => {
        exec.signal.addEventListener('abort', () => {
          aborted = true;
          reject(exec.signal.reason);
        });
      });
    });
    const id = await o.startSaga(
      't',
      [step('a'), step('b', { dependencies: ['a'] }), step('c', { dependencies: ['b'] })],
      {},
    );
    await entered.promise;
    const cancelled: string[] = [];
    o.on('saga:cancelled', (e) => cancelled.push(e.reason));
    const done = await o.cancelSaga(id, 'user hung up');
    expect(aborted).toBe(true);
    expect(cancelled).toEqual(['user hung up']);
    expect(done?.status).toBe('compensated');
    expect(done?.cancelReason).toBe('user hung up');
    expect(done?.error?.code).toBe(ServiceErrorCode.CANCELLED);
    expect(log).toEqual(['a', 'undo a']);
    expect(await o.cancelSaga(id, 'again')).toBeUndefined();
  });

  it('limits active sagas', async () => {
    const o = make({ maxActiveSagas: 2 });
    const gate = deferred();
    o.registerStepHandler('wait', () => gate.promise);
    const steps = [{ id: 'w', name: 'w', service: 's', action: 'wait' }];
    const ids = [await o.startSaga('t', steps, {}), await o.startSaga('t', steps, {})];
    const error = await o.startSaga('t', steps, {}).catch((e: unknown) => e);
    expect(isServiceError(error, ServiceErrorCode.BULKHEAD_FULL)).toBe(true);
    const active = o.getActiveSagas();
    expect(active.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(active[0]!.stepResults.size).toBe(0);
    expect(active[0]!.steps.length).toBe(1);
    expect(active[0]!.startedAt.getTime()).toBeGreaterThan(0);
    const health = await o.healthCheck();
    expect(health).toMatchObject({
      healthy: true,
      activeSagas: 2,
      maxActiveSagas: 2,
      store: { healthy: true },
    });
    gate.resolve();
    await Promise.all(ids.map((id) => o.waitForSaga(id)));
    await expect(o.startSaga('t', steps, {})).resolves.toBeTypeOf('string');
  });

  it('fails the step that returns a value JSON cannot store, naming it', async () => {
    const o = make();
    const log: string[] = [];
    handlers(o, ['a'], log);
    o.registerStepHandler('bad', () => ({ audio: Buffer.from('x') }));
    const id = await o.startSaga(
      't',
      [step('a'), step('bad', { action: 'bad', compensationAction: undefined, dependencies: ['a'] })],
      {},
    );
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('compensated');
    expect(done.error?.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(done.error?.message).toContain(
      "step 'bad' returned a result that cannot be stored as JSON: $.audio is a Buffer",
    );
    expect(log).toEqual(['a', 'undo a']);
  });

  it('hands handlers a frozen context, so a resumed run sees what the first one saw', async () => {
    const o = make();
    o.registerStepHandler('mutate', (_s, ctx: { n: number }) => {
      ctx.n = 2;
    });
    const id = await o.startSaga('t', [{ id: 'm', name: 'm', service: 's', action: 'mutate' }], { n: 1 });
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('compensated');
    expect(done.error?.message).toMatch(/read only|read-only/);
    expect(done.context).toEqual({ n: 1 });
  });

  it('validates its options', () => {
    expect(() => new SagaOrchestrator({ maxActiveSagas: 0 })).toThrow(
      /maxActiveSagas must be a positive integer, got 0/,
    );
    expect(() => new SagaOrchestrator({ recoveryPolicy: 'retry' as never })).toThrow(/recoveryPolicy/);
  });

  it('another orchestrator resumes a released saga, re-running only the unfinished step with the same key', async () => {
    const store = new InMemorySagaStore();
    const first = make({ store, orchestratorId: 'first' });
    const second = make({ store, orchestratorId: 'second' });
    const runs: string[] = [];
    for (const o of [first, second]) {
      o.registerStepHandler(
        'a',
        (_s, _c, exec) => void runs.push(`${o.id} a ${exec.idempotencyKey} #${exec.execution}`),
      );
    }
    const entered = deferred();
    first.registerStepHandler('b', () => {
      entered.resolve();
      return new Promise(() => {});
    });
    second.registerStepHandler(
      'b',
      (_s, _c, exec) => void runs.push(`second b ${exec.idempotencyKey} #${exec.execution}`),
    );
    const steps = [
      { id: 'a', name: 'a', service: 's', action: 'a' },
      { id: 'b', name: 'b', service: 's', action: 'b', dependencies: ['a'] },
    ];
    const id = await first.startSaga('t', steps, {}, undefined, { sagaId: 'saga-x' });
    await entered.promise;
    const suspended: string[] = [];
    first.on('saga:suspended', (e) => suspended.push(e.reason));
    await first.close({ drainTimeoutMs: 0 });
    expect(suspended).toEqual(['closed']);
    expect(await second.recover()).toEqual([id]);
    const done = await second.waitForSaga(id);
    expect(done.status).toBe('completed');
    expect(runs).toEqual(['first a saga-x:a #1', 'second b saga-x:b #2']);
  });

  it('retries a step retryAttempts times on retryable errors, with the same idempotency key', async () => {
    vi.useFakeTimers();
    const o = make();
    const seen: string[] = [];
    o.registerStepHandler('flaky', (_s, _c, exec) => {
      seen.push(`${exec.attempt} ${exec.idempotencyKey}`);
      if (exec.attempt < 3) throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'busy');
      return 'ok';
    });
    o.registerStepHandler('invalid', () => {
      throw new ServiceError(ServiceErrorCode.BAD_REQUEST, 'bad input');
    });
    const retrying: number[] = [];
    o.on('step:retrying', (e) => retrying.push(e.attempt));
    const id = await o.startSaga(
      't',
      [{ id: 'f', name: 'f', service: 's', action: 'flaky', retryAttempts: 2 }],
      {},
      undefined,
      {
        sagaId: 'r1',
      },
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await o.waitForSaga(id)).status).toBe('completed');
    expect(seen).toEqual(['1 r1:f', '2 r1:f', '3 r1:f']);
    expect(retrying).toEqual([2, 3]);

    // Not retryable: one attempt, whatever retryAttempts says.
    const id2 = await o.startSaga(
      't',
      [{ id: 'v', name: 'v', service: 's', action: 'invalid', retryAttempts: 5 }],
      {},
    );
    await vi.advanceTimersByTimeAsync(10_000);
    const done = await o.waitForSaga(id2);
    expect(done.status).toBe('compensated');
    expect(done.error?.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(retrying).toEqual([2, 3]);

    // A plain Error, as handlers written without ServiceError throw, is retried.
    let plainCalls = 0;
    o.registerStepHandler('plain', () => {
      if (++plainCalls < 3) throw new Error('transient');
      return 'ok';
    });
    const id3 = await o.startSaga(
      't',
      [{ id: 'p', name: 'p', service: 's', action: 'plain', retryAttempts: 2 }],
      {},
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await o.waitForSaga(id3)).status).toBe('completed');
    expect(plainCalls).toBe(3);
  });

  it('compensates with backoff by default, retrying any error', async () => {
    vi.useFakeTimers();
    const o = new SagaOrchestrator();
    orchestrators.push(o);
    let undoCalls = 0;
    o.registerStepHandler('a', () => 'a');
    o.registerCompensationHandler('undo_a', () => {
      if (++undoCalls < 3) throw new Error('not yet');
    });
    o.registerStepHandler('boom', () => {
      throw new Error('boom');
    });
    const id = await o.startSaga(
      't',
      [step('a'), step('boom', { action: 'boom', compensationAction: undefined, dependencies: ['a'] })],
      {},
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(undoCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    const done = await o.waitForSaga(id);
    expect(undoCalls).toBe(3);
    expect(done.status).toBe('compensated');
  });

  it('fences a stalled owner: after its lease is taken over its writes are refused and it lets go', async () => {
    let now = 1_000_000;
    // A clock whose timers never fire: no heartbeat, so the lease simply runs out.
    const clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
    const store = new InMemorySagaStore({ clock });
    const stalled = make({ store, clock, orchestratorId: 'stalled', leaseMs: 1_000 });
    const healthy = make({ store, clock, orchestratorId: 'healthy', leaseMs: 1_000 });
    const gate = deferred();
    const runs: string[] = [];
    stalled.registerStepHandler('a', async (_s, _c, exec) => {
      await gate.promise;
      runs.push(`stalled #${exec.execution}`);
    });
    healthy.registerStepHandler('a', (_s, _c, exec) => void runs.push(`healthy #${exec.execution}`));
    const suspended: string[] = [];
    stalled.on('saga:suspended', (e) => suspended.push(e.reason));
    const id = await stalled.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'a' }], {});
    const stalledDone = stalled.waitForSaga(id);
    expect(await healthy.recover()).toEqual([]);
    now += 1_001;
    expect(await healthy.recover()).toEqual([id]);
    expect((await healthy.waitForSaga(id)).status).toBe('completed');
    gate.resolve();
    const error = await stalledDone.catch((e: unknown) => e);
    expect(isServiceError(error, ServiceErrorCode.CONFLICT)).toBe(true);
    expect(suspended).toEqual(['lease-lost']);
    expect(runs).toEqual(['healthy #2', 'stalled #1']);
    expect((await healthy.loadSaga(id))?.status).toBe('completed');
  });

  it('with recoveryPolicy compensate, undoes a recovered saga, including the step that may have run', async () => {
    const store = new InMemorySagaStore();
    const first = make({ store });
    const second = make({ store, recoveryPolicy: 'compensate' });
    const log: string[] = [];
    const entered = deferred();
    for (const o of [first, second]) {
      o.registerStepHandler('a', () => 'A');
      o.registerStepHandler('b', () => {
        entered.resolve();
        return new Promise(() => {});
      });
      o.registerCompensationHandler(
        'undo_a',
        (_s, _c, exec) => void log.push(`undo a ${exec.result} failed=${exec.failed}`),
      );
      o.registerCompensationHandler(
        'undo_b',
        (_s, _c, exec) => void log.push(`undo b ${exec.result} failed=${exec.failed}`),
      );
    }
    const id = await first.startSaga('t', [step('a'), step('b', { dependencies: ['a'] })], {});
    await entered.promise;
    await first.close({ drainTimeoutMs: 0 });
    expect(await second.recover()).toEqual([id]);
    const done = await second.waitForSaga(id);
    expect(done.status).toBe('compensated');
    expect(done.stepStates.b?.interrupted).toBe(true);
    expect(log).toEqual(['undo b undefined failed=true', 'undo a A failed=false']);
  });

  it('suspends a saga whose state cannot be written, reports the store unhealthy, and lets it be recovered', async () => {
    let now = 0;
    const clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
    const inner = new InMemorySagaStore({ clock });
    let down = false;
    // A store whose database goes away: every call fails while `down`.
    const flaky: typeof inner = Object.assign(Object.create(inner) as typeof inner, {
      write: (w: Parameters<typeof inner.write>[0]) =>
        down ? Promise.reject(new Error('connection refused')) : inner.write(w),
      ping: () => (down ? Promise.reject(new Error('connection refused')) : inner.ping()),
    });
    const o = make({ store: flaky, clock, leaseMs: 1_000 });
    const gate = deferred();
    o.registerStepHandler('a', () => gate.promise.then(() => 'a'));
    const id = await o.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'a' }], {});
    const suspended: string[] = [];
    o.on('saga:suspended', (e) => suspended.push(`${e.reason} ${e.error?.message}`));
    const done = o.waitForSaga(id);
    down = true;
    gate.resolve();
    expect(isServiceError(await done.catch((e: unknown) => e), ServiceErrorCode.CONFLICT)).toBe(true);
    expect(suspended).toEqual(['store-error connection refused']);
    const health = await o.healthCheck();
    expect(health.healthy).toBe(false);
    expect(health.store.error).toContain('connection refused');
    expect(health.totals.suspended).toBe(1);

    down = false;
    now += 1_001;
    const rescuer = make({ store: inner, clock });
    rescuer.registerStepHandler('a', (_s, _c, exec) => `again #${exec.execution}`);
    expect(await rescuer.recover()).toEqual([id]);
    expect((await rescuer.waitForSaga(id)).stepResults.get('a')).toBe('again #2');
  });
});
