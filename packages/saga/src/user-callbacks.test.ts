import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySagaStore } from './memory-store';
import { SagaOrchestrator } from './orchestrator';
import { createSaga } from './saga-builder';
import type { RetryLike } from './step-runner';

/** Something thrown that cannot be read: every getter throws. */
function unreadable(): object {
  return {
    get message(): string {
      throw new Error('message getter');
    },
    get code(): string {
      throw new Error('code getter');
    },
    get name(): string {
      throw new Error('name getter');
    },
  };
}

/** A proxy whose every trap throws. */
function hostileProxy(): object {
  const trap = (): never => {
    throw new Error('trap');
  };
  return new Proxy(
    {},
    { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap },
  );
}

const throwingLogger = {
  debug: () => {
    throw new Error('log down');
  },
  info: () => {
    throw new Error('log down');
  },
  warn: () => {
    throw new Error('log down');
  },
  error: () => {
    throw new Error('log down');
  },
};

const once: RetryLike = { execute: (fn, signal) => Promise.resolve(fn({ signal: signal!, attempt: 1 })) };

const orchestrators: SagaOrchestrator[] = [];
afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});

function make(options: ConstructorParameters<typeof SagaOrchestrator>[0] = {}): SagaOrchestrator {
  const o = new SagaOrchestrator({ compensationRetry: once, ...options });
  orchestrators.push(o);
  return o;
}

const chain = [
  { id: 'a', name: 'a', service: 'svc', action: 'a', compensationAction: 'undo_a' },
  { id: 'b', name: 'b', service: 'svc', action: 'b', dependencies: ['a'] },
];

/** Handlers for {@link chain}: `a` completes, `b` fails, so `a` is undone by `undo`. */
function failAfterA(o: SagaOrchestrator, undo: () => unknown): void {
  o.registerStepHandler('a', () => 'A');
  o.registerCompensationHandler('undo_a', undo);
  o.registerStepHandler('b', () => {
    throw new Error('b failed');
  });
}

describe('a throwing user callback', () => {
  it('a step throwing an unreadable value fails as a ServiceError with it as cause; the saga compensates', async () => {
    for (const thrown of [unreadable(), hostileProxy()]) {
      const o = make();
      const undone: string[] = [];
      o.registerStepHandler('a', () => 'A');
      o.registerCompensationHandler('undo_a', () => void undone.push('a'));
      o.registerStepHandler('b', () => {
        throw thrown;
      });
      const failures: ServiceError[] = [];
      o.on('step:failed', (e) => failures.push(e.error));
      // Used to hang: normalising the thrown value threw inside the attempt's settle callback.
      const done = await o.waitForSaga(await o.startSaga('t', chain, {}));
      expect(done.status).toBe('compensated');
      expect(undone).toEqual(['a']);
      expect(failures[0]).toBeInstanceOf(ServiceError);
      expect(failures[0]!.cause).toBe(thrown);
      expect(done.stepStates.b?.status).toBe('failed');
    }
  });

  it('a compensation throwing an unreadable value is recorded as failed; the saga ends failed', async () => {
    const o = make();
    o.registerStepHandler('a', () => 'A');
    const thrown = unreadable();
    o.registerCompensationHandler('undo_a', () => {
      throw thrown;
    });
    o.registerStepHandler('b', () => {
      throw new Error('b failed');
    });
    const done = await o.waitForSaga(await o.startSaga('t', chain, {}));
    expect(done.status).toBe('failed');
    expect(done.stepStates.a?.status).toBe('compensation_failed');
    expect(done.compensationErrors.map((f) => f.step)).toEqual(['a']);
  });

  it('a step result whose getters throw fails that step, and nothing unreadable is stored', async () => {
    const store = new InMemorySagaStore();
    const o = make({ store });
    o.registerStepHandler('a', () => 'A');
    o.registerCompensationHandler('undo_a', () => undefined);
    o.registerStepHandler('b', () => ({
      get total(): number {
        throw new Error('total getter');
      },
    }));
    const done = await o.waitForSaga(await o.startSaga('t', chain, {}));
    expect(done.status).toBe('compensated');
    expect(done.error?.code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect(done.error?.message).toContain("step 'b' returned a result that cannot be stored as JSON");
  });

  it('a context whose getters throw is BAD_REQUEST at start, and nothing is stored', async () => {
    const store = new InMemorySagaStore();
    const o = make({ store });
    o.registerStepHandler('a', () => 'A');
    o.registerCompensationHandler('undo_a', () => undefined);
    const error = await o
      .startSaga('t', chain.slice(0, 1), {
        get sampleId(): string {
          throw new Error('getter');
        },
      })
      .catch((e: unknown) => e);
    expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST), String(error)).toBe(true);
    expect((error as Error).message).toContain('could not be read');
    expect(store.writes).toBe(0);
  });

  it('a logger that throws changes nothing: sagas still complete and compensate', async () => {
    const o = make({ logger: throwingLogger });
    failAfterA(o, () => {
      throw new Error('cannot undo');
    });
    const done = await o.waitForSaga(await o.startSaga('t', chain, {}));
    expect(done.status).toBe('failed');
    expect(done.compensationErrors[0]?.error.message).toBe('cannot undo');
  });

  it('event listeners that throw change nothing', async () => {
    const o = make();
    o.registerStepHandler('a', () => 'A');
    o.registerCompensationHandler('undo_a', () => undefined);
    o.registerStepHandler('b', () => 'B');
    const names = ['saga:started', 'step:started', 'step:completed', 'saga:completed'] as const;
    for (const name of names) {
      o.on(name, () => {
        throw new Error(`listener of ${name}`);
      });
    }
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const done = await o.waitForSaga(await o.startSaga('t', chain, {}));
      expect(done.status).toBe('completed');
      expect(done.completedSteps).toEqual(['a', 'b']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a retry policy that throws instead of rejecting fails the step, not the run', async () => {
    const o = make({
      compensationRetry: {
        execute: () => {
          throw new Error('policy bug');
        },
      },
    });
    failAfterA(o, () => undefined);
    const done = await o.waitForSaga(await o.startSaga('t', chain, {}));
    expect(done.status).toBe('failed');
    expect(done.compensationErrors[0]?.error.message).toBe('policy bug');
  });

  it('an id source that throws is an INTERNAL_ERROR with cause; nothing is stored', async () => {
    const store = new InMemorySagaStore();
    const thrown = new Error('no entropy');
    let calls = 0;
    const o = make({
      store,
      orchestratorId: 'o',
      createId: () => {
        calls++;
        throw thrown;
      },
    });
    o.registerStepHandler('a', () => 'A');
    o.registerCompensationHandler('undo_a', () => undefined);
    const error = await o.startSaga('t', chain.slice(0, 1), {}).catch((e: unknown) => e);
    expect(isServiceError(error, ServiceErrorCode.INTERNAL_ERROR), String(error)).toBe(true);
    expect((error as ServiceError).cause).toBe(thrown);
    expect(calls).toBe(1);
    expect(store.writes).toBe(0);
    expect(o.getActiveSagas()).toEqual([]);
  });

  it('in the builder: an unreadable throw from an action or a compensation is a ServiceError with it as cause', async () => {
    const fromAction = unreadable();
    const fromUndo = hostileProxy();
    const result = await createSaga({}, { logger: throwingLogger, compensationRetry: once })
      .step(
        'a',
        () => 1,
        () => {
          throw fromUndo;
        },
      )
      .step('b', () => {
        throw fromAction;
      })
      .execute();
    expect(result.success).toBe(false);
    expect(result.failedStep).toBe('b');
    expect(result.error?.cause).toBe(fromAction);
    expect(result.compensationErrors.map((f) => [f.step, f.error.cause === fromUndo])).toEqual([['a', true]]);
  });
});
