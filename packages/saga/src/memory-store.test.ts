import { describe, expect, it } from 'vitest';
import { InMemorySagaStore } from './memory-store';
import type { SagaRecord, SagaStatus } from './store';

const record = (id: string, status: SagaStatus = 'running'): SagaRecord => ({
  id,
  type: 't',
  status,
  context: {},
  steps: [],
  stepStates: {},
  completionOrder: [],
  startedAt: 0,
  updatedAt: 0,
});

describe('InMemorySagaStore', () => {
  it('snapshots on write, fences by owner and refuses duplicate creates', async () => {
    const store = new InMemorySagaStore();
    const r = record('a');
    expect(await store.write({ record: r, owner: 'me', leaseMs: 1_000, create: true })).toBe(true);
    r.cancelReason = 'changed after the write';
    expect((await store.load('a'))?.cancelReason).toBeUndefined();
    expect(await store.write({ record: r, owner: 'me', leaseMs: 1_000, create: true })).toBe(false);
    expect(await store.write({ record: r, owner: 'someone else', leaseMs: 1_000, create: false })).toBe(
      false,
    );
    expect(await store.write({ record: r, owner: 'me', leaseMs: 1_000, create: false })).toBe(true);
  });

  it('claims only expired active sagas, each once', async () => {
    let now = 0;
    const store = new InMemorySagaStore({
      clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
    });
    await store.write({ record: record('a'), owner: 'dead', leaseMs: 100, create: true });
    await store.write({ record: record('done', 'completed'), owner: 'dead', leaseMs: 100, create: true });
    expect(await store.claim('x', 100, 10)).toEqual([]);
    now = 101;
    expect((await store.claim('x', 100, 10)).map((r) => r.id)).toEqual(['a']);
    expect(await store.claim('y', 100, 10)).toEqual([]);
    expect(await store.renew('x', ['a', 'done'], 100)).toEqual(['a']);
    await store.release('x', ['a']);
    expect((await store.claim('y', 100, 10)).map((r) => r.id)).toEqual(['a']);
  });

  it('keeps at most maxFinished finished sagas, dropping the oldest', async () => {
    const store = new InMemorySagaStore({ maxFinished: 2 });
    for (const id of ['a', 'b', 'c']) {
      await store.write({ record: record(id), owner: 'me', leaseMs: 1_000, create: true });
      await store.write({ record: record(id, 'completed'), owner: 'me', leaseMs: 1_000, create: false });
    }
    await store.write({ record: record('live'), owner: 'me', leaseMs: 1_000, create: true });
    expect(await store.load('a')).toBeUndefined();
    expect((await store.load('b'))?.status).toBe('completed');
    expect((await store.load('c'))?.status).toBe('completed');
    expect((await store.load('live'))?.status).toBe('running');
    expect(() => new InMemorySagaStore({ maxFinished: -1 })).toThrow(/maxFinished/);
  });
});
