import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from './clock';
import { type DeadlineEntry, DeadlineQueue } from './deadline-queue';
import { manualClock } from './test-helpers';

describe('DeadlineQueue', () => {
  it('expires every entry at or after its deadline, never before, in deadline order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 500 }),
            ttl: fc.integer({ min: 1, max: 300 }),
            cancelAfter: fc.option(fc.integer({ min: 0, max: 400 })),
          }),
          { maxLength: 40 },
        ),
        (specs) => {
          const { clock, advance, pending } = manualClock();
          const queue = new DeadlineQueue(clock);
          const expired: Array<{ id: number; at: number; deadline: number }> = [];
          const entries: Array<DeadlineEntry & { id: number; cancelAt: number | null }> = [];
          const sorted = specs.map((s, id) => ({ ...s, id })).sort((a, b) => a.at - b.at);
          let t = 0;
          const events = sorted.flatMap((s) => [
            { time: s.at, kind: 'add' as const, s },
            ...(s.cancelAfter === null ? [] : [{ time: s.at + s.cancelAfter, kind: 'cancel' as const, s }]),
          ]);
          events.sort((a, b) => a.time - b.time || (a.kind === 'add' ? -1 : 1));
          for (const ev of events) {
            advance(ev.time - t);
            t = ev.time;
            if (ev.kind === 'add') {
              const now = queue.now();
              const entry = {
                id: ev.s.id,
                deadline: now + ev.s.ttl,
                heapIndex: -1,
                cancelAt: null,
                expire() {
                  expired.push({ id: ev.s.id, at: clock.now(), deadline: entry.deadline });
                },
              };
              entries[ev.s.id] = entry;
              queue.add(entry);
            } else {
              const entry = entries[ev.s.id];
              if (entry && entry.heapIndex >= 0) queue.remove(entry);
            }
          }
          advance(2000);
          for (const e of expired) {
            expect(e.at).toBeGreaterThanOrEqual(e.deadline);
            // One tick of resolution (1 ms), as with Node's timers.
            expect(e.at).toBeLessThanOrEqual(e.deadline + 1);
          }
          const deadlines = expired.map((e) => e.deadline);
          expect(deadlines).toEqual([...deadlines].sort((a, b) => a - b));
          expect(queue.size).toBe(0);
          expect(pending()).toBe(0);
          // Every entry either expired or was removed before its deadline.
          for (const s of specs) {
            const gone = expired.some((e) => e.id === specs.indexOf(s));
            const cancelledInTime = s.cancelAfter !== null && s.cancelAfter < s.ttl;
            expect(gone || cancelledInTime).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stops ticking when nobody asks for the time, and leaves no timer once empty', () => {
    const { clock, advance, pending } = manualClock();
    const queue = new DeadlineQueue(clock);
    queue.now();
    expect(pending()).toBe(1);
    advance(1);
    expect(queue.armed).toBe(true);
    advance(1);
    expect(queue.armed).toBe(false);
    expect(pending()).toBe(0);
    const entry: DeadlineEntry = { deadline: queue.now() + 10_000, heapIndex: -1, expire: () => {} };
    queue.add(entry);
    advance(5);
    expect(pending()).toBe(1); // one timer for the deadline, no ticker
    queue.remove(entry);
    advance(10_000);
    expect(pending()).toBe(0);
  });

  it('keeps the process alive only while a finite deadline is pending', () => {
    let now = 0;
    interface Handle {
      unrefAtStart: boolean;
      refs: number;
      unrefs: number;
      fn: () => void;
      ref: () => void;
      unref: () => void;
    }
    const armed: Handle[] = [];
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, _ms, unref) => {
        const handle: Handle = {
          unrefAtStart: unref === true,
          refs: 0,
          unrefs: 0,
          fn,
          ref: () => handle.refs++,
          unref: () => handle.unrefs++,
        };
        armed.push(handle);
        return handle;
      },
      clearTimeout: () => {},
    };
    const queue = new DeadlineQueue(clock);
    queue.now(); // starts the ticker with nothing pending: unref'd
    expect(armed.at(-1)!.unrefAtStart).toBe(true);
    const first: DeadlineEntry = { deadline: now + 100, heapIndex: -1, expire: () => {} };
    const second: DeadlineEntry = { deadline: now + 200, heapIndex: -1, expire: () => {} };
    const forever: DeadlineEntry = { deadline: Number.POSITIVE_INFINITY, heapIndex: -1, expire: () => {} };
    queue.add(first);
    expect(armed.at(-1)!.refs).toBe(1);
    queue.add(second);
    queue.add(forever);
    expect(armed.at(-1)!.refs).toBe(1); // already ref'd
    now = 1;
    armed.at(-1)!.fn(); // a tick with deadlines pending re-arms ref'd
    expect(armed.at(-1)!.unrefAtStart).toBe(false);
    now = 2;
    armed.at(-1)!.fn(); // nobody asked for the time: asleep, one ref'd timer for the earliest deadline
    const sleeper = armed.at(-1)!;
    expect(sleeper.unrefAtStart).toBe(false);
    queue.remove(first);
    expect(sleeper.unrefs).toBe(0); // a finite deadline is still pending
    queue.remove(second);
    expect(sleeper.unrefs).toBe(1); // only the infinite one is left: the process may exit
  });
});
