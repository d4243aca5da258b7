import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate';

/** A task that runs until the test ends it, recording how many ran at once. */
function controlled() {
  let running = 0;
  let peak = 0;
  const ends: (() => void)[] = [];
  const started: number[] = [];
  const task = (id: number) => () => {
    started.push(id);
    running++;
    peak = Math.max(peak, running);
    return new Promise<number>((resolve) =>
      ends.push(() => {
        running--;
        resolve(id);
      }),
    );
  };
  return { task, ends, started, peak: () => peak };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyGate', () => {
  it('runs at most limit tasks, the others in the order given, each resolving with its task', async () => {
    const gate = new ConcurrencyGate(2);
    const { task, ends, started, peak } = controlled();
    const results = [1, 2, 3, 4].map((id) => gate.run(task(id)));
    await settle();
    expect(started).toEqual([1, 2]);
    ends.shift()!();
    await settle();
    expect(started).toEqual([1, 2, 3]);
    while (ends.length > 0) {
      ends.shift()!();
      await settle();
    }
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4]);
    expect(peak()).toBe(2);
  });

  it('hands a freed slot to the waiting task: no moment lets another in over the limit', async () => {
    const gate = new ConcurrencyGate(1);
    const { task, ends, started, peak } = controlled();
    void gate.run(task(1));
    void gate.run(task(2));
    ends.shift()!();
    // Step through the microtasks between task 1 ending and task 2 starting.
    let free = false;
    for (let i = 0; i < 10; i++) {
      await Promise.resolve();
      free ||= gate.hasCapacity;
    }
    await settle();
    expect([free, started, peak()]).toEqual([false, [1, 2], 1]);
  });

  it('turns a task that throws at once into a rejection and frees its slot', async () => {
    const gate = new ConcurrencyGate(1);
    await expect(
      gate.run(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
    expect(gate.active).toBe(0);
  });

  it('whenIdle resolves once nothing runs or waits', async () => {
    const gate = new ConcurrencyGate(1);
    const { task, ends } = controlled();
    void gate.run(task(1));
    void gate.run(task(2));
    let idle = false;
    void gate.whenIdle().then(() => {
      idle = true;
    });
    ends.shift()!();
    await settle();
    expect(idle).toBe(false);
    ends.shift()!();
    await settle();
    expect(idle).toBe(true);
  });
});
