import { MAX_TIMER_MS } from '@clone/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { badRequestFrom } from '../test/bad-request';
import { ManualClock } from '../test/manual-clock';
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

  it('renews a lease once per third of it, never faster, and refuses a lease no timer can hold', async () => {
    // A lease of 10^10 ms was accepted: its heartbeat (a third) overflowed the timer and fired
    // after 1 ms, renewing in a hot loop.
    for (const leaseMs of [MAX_TIMER_MS + 1, 1e10, Number.POSITIVE_INFINITY]) {
      const error = badRequestFrom(() => orchestrators.push(new SagaOrchestrator({ leaseMs })));
      expect(error.message).toContain('leaseMs must be an integer number of milliseconds');
    }

    for (const leaseMs of [100, 3_000, MAX_TIMER_MS]) {
      const clock = new ManualClock();
      const store = new InMemorySagaStore({ clock });
      let renewals = 0;
      const renew = store.renew.bind(store);
      store.renew = (...args) => {
        renewals++;
        return renew(...args);
      };
      const o = new SagaOrchestrator({
        store,
        clock,
        leaseMs,
        recoveryIntervalMs: MAX_TIMER_MS,
        defaultStepTimeoutMs: MAX_TIMER_MS,
      });
      orchestrators.push(o);
      o.registerStepHandler('hang', () => new Promise(() => {}));
      await o.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'hang' }], {});
      for (const timer of clock.timers) {
        expect(timer.ms).toBeLessThanOrEqual(MAX_TIMER_MS);
        expect(timer.unref).toBe(true);
      }
      const every = Math.max(50, Math.floor(leaseMs / 3));
      // Three heartbeats' worth of time (the step's own timeout comes after), one tick at a
      // time: each renewal settles before the next is scheduled.
      for (let i = 0; i < 3; i++) {
        clock.advance(every);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(renewals, `leaseMs ${leaseMs}`).toBe(3);
    }
  });
});
