import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../test/manual-clock';
import { SagaOrchestrator, type SagaOrchestratorOptions } from './index';
import { InMemorySagaStore } from './memory-store';

const orchestrators: SagaOrchestrator[] = [];
afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});

const MINUTE = 60_000;

function make(clock: ManualClock, options: SagaOrchestratorOptions = {}): SagaOrchestrator {
  const o = new SagaOrchestrator({ clock, store: new InMemorySagaStore({ clock }), ...options });
  orchestrators.push(o);
  o.registerStepHandler('a', () => 'A');
  return o;
}

async function runOne(o: SagaOrchestrator): Promise<string> {
  const id = await o.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'a' }], {});
  await o.waitForSaga(id);
  return id;
}

describe('finished sagas in memory', () => {
  it('are removed by the cleanup once past their retention; the timer is unref and stops on close', async () => {
    const clock = new ManualClock();
    const o = make(clock, { cleanupIntervalMs: 5 * MINUTE, historyRetentionMs: 10 * MINUTE });
    expect(clock.pending(5 * MINUTE)).toEqual([]); // nothing remembered yet: no cleanup timer
    const first = await runOne(o);
    expect(clock.pending(5 * MINUTE)).toMatchObject([{ unref: true }]);
    clock.advance(6 * MINUTE);
    const second = await runOne(o);
    clock.advance(5 * MINUTE); // the first finished 11 min ago, the second 5 min ago
    expect(o.getSagaStatus(first)).toBeUndefined();
    expect(o.getSagaHistory().map((s) => s.id)).toEqual([second]);
    const gone = await o.waitForSaga(first).catch((e: unknown) => e);
    expect(isServiceError(gone, ServiceErrorCode.NOT_FOUND)).toBe(true);
    // The store still has it: memory is cleaned, the durable record is not.
    expect((await o.loadSaga(first))?.status).toBe('completed');
    // Counters are not history: they keep counting.
    expect((await o.healthCheck()).totals.completed).toBe(2);

    clock.advance(10 * MINUTE);
    expect(o.getSagaHistory()).toEqual([]);
    expect(clock.pending(5 * MINUTE)).toEqual([]); // nothing left to clean: the timer ends
    await runOne(o);
    expect(clock.pending(5 * MINUTE)).toHaveLength(1);
    await o.close();
    expect(clock.pending(5 * MINUTE)).toEqual([]);
  });

  it('are kept until historyLimit pushes them out when the cleanup is off', async () => {
    const clock = new ManualClock();
    const o = make(clock, { cleanupIntervalMs: 0, historyLimit: 2 });
    const ids = [await runOne(o), await runOne(o), await runOne(o)];
    clock.advance(30 * 24 * 60 * MINUTE);
    expect(o.getSagaHistory().map((s) => s.id)).toEqual(ids.slice(1));
    expect([...clock.timers].filter((t) => t.ms === 0)).toEqual([]);
  });

  it('are cleaned every 5 minutes after an hour by default', async () => {
    const clock = new ManualClock();
    const o = make(clock);
    const id = await runOne(o);
    expect(clock.pending(300_000)).toHaveLength(1);
    clock.advance(59 * MINUTE);
    expect(o.getSagaStatus(id)?.status).toBe('completed');
    clock.advance(6 * MINUTE);
    expect(o.getSagaStatus(id)).toBeUndefined();
  });
});
