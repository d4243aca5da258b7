import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySagaStore } from './memory-store';
import { SagaOrchestrator } from './orchestrator';

const orchestrators: SagaOrchestrator[] = [];
afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});

describe('leases and recovery', () => {
  it('does not take over, a second time, a saga it still drives whose lease ran out (a stalled event loop)', async () => {
    let now = 1_000_000;
    // Timers never fire: no heartbeat, as when the event loop stalls past the lease.
    const clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
    const store = new InMemorySagaStore({ clock });
    const o = new SagaOrchestrator({ store, clock, leaseMs: 1_000 });
    orchestrators.push(o);
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    o.registerStepHandler('a', async (_s, _c, exec) => {
      runs.push(`a #${exec.execution}`);
      await gate;
    });
    o.registerStepHandler('b', (_s, _c, exec) => void runs.push(`b #${exec.execution}`));
    const id = await o.startSaga(
      't',
      [
        { id: 'a', name: 'a', service: 's', action: 'a' },
        { id: 'b', name: 'b', service: 's', action: 'b', dependencies: ['a'] },
      ],
      {},
    );
    now += 1_001;
    // The claim renews the lease for its owner; the run in progress keeps the saga.
    expect(await o.recover()).toEqual([]);
    release();
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('completed');
    expect(runs).toEqual(['a #1', 'b #1']);
    expect((await o.healthCheck()).totals).toMatchObject({ started: 1, recovered: 0, completed: 1 });
  });
});
