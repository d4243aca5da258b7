import { afterEach, describe, expect, it } from 'vitest';
import { registerEcho, UNSAFE_IDS, unsafeChain } from '../test/unsafe-ids';
import { InMemorySagaStore } from './memory-store';
import { SagaOrchestrator } from './orchestrator';

const orchestrators: SagaOrchestrator[] = [];
afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});

describe('step ids are user data', () => {
  it("'__proto__', 'constructor' and 'prototype' run, pass their results on and read back (memory store)", async () => {
    const store = new InMemorySagaStore();
    const o = new SagaOrchestrator({ store });
    orchestrators.push(o);
    registerEcho(o, []);
    const id = await o.startSaga('unsafe', unsafeChain(), {});
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('completed');
    expect(done.completedSteps).toEqual([...UNSAFE_IDS]);
    expect([...done.stepResults.keys()]).toEqual([...UNSAFE_IDS]);
    expect(done.stepResults.get('prototype')).toEqual({
      id: 'prototype',
      seen: ['__proto__', 'constructor'],
      before: [
        { id: '__proto__', seen: [], before: [] },
        { id: 'constructor', seen: ['__proto__'], before: [{ id: '__proto__', seen: [], before: [] }] },
      ],
    });
    expect(Object.keys(done.stepStates)).toEqual([...UNSAFE_IDS]);
    expect(done.stepStates[UNSAFE_IDS[0]]?.status).toBe('completed');
    const loaded = await o.loadSaga(id);
    expect([...loaded!.stepResults.keys()]).toEqual([...UNSAFE_IDS]);
    expect(loaded!.stepStates[UNSAFE_IDS[0]]?.status).toBe('completed');
    expect(Object.getPrototypeOf(loaded!.stepStates)).toBe(null);
  });

  it('compensates them with their results', async () => {
    const o = new SagaOrchestrator();
    orchestrators.push(o);
    const undone: string[] = [];
    registerEcho(o, undone);
    const steps = [
      ...unsafeChain(),
      { id: 'last', name: 'last', service: 's', action: 'fail', dependencies: ['prototype'] },
    ];
    const done = await o.waitForSaga(await o.startSaga('unsafe', steps, {}));
    expect(done.status).toBe('compensated');
    expect(undone.map((u) => u.split(' ')[0])).toEqual(['prototype', 'constructor', '__proto__']);
    expect(undone[2]).toBe('__proto__ {"id":"__proto__","seen":[],"before":[]}');
  });
});
