import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batcher';

/** A batcher on a channel that records its acks, flushed only when the test says so. */
function setup() {
  const acks: [number, boolean][] = [];
  let live = true;
  let pending: (() => void) | undefined;
  let scheduled = 0;
  const batcher = new AckBatcher(
    { ack: (message, allUpTo) => acks.push([message.fields.deliveryTag, allUpTo ?? false]) },
    () => live,
    (flush) => {
      scheduled++;
      pending = flush;
      return () => {
        pending = undefined;
      };
    },
  );
  const turn = () => {
    const flush = pending;
    pending = undefined;
    flush?.();
  };
  const lose = () => {
    live = false;
  };
  return { acks, batcher, turn, lose, scheduled: () => scheduled };
}

describe('AckBatcher', () => {
  it('acknowledges a run of handled deliveries with one multiple ack, once per turn', () => {
    const { acks, batcher, turn, scheduled } = setup();
    for (const tag of [1, 2, 3]) batcher.received(tag);
    batcher.done(2);
    batcher.done(1);
    batcher.done(3);
    expect([acks, scheduled()]).toEqual([[], 1]);
    turn();
    expect(acks).toEqual([[3, true]]);
  });

  it('acks on their own the handled deliveries behind one still running, and covers the rest later', () => {
    const { acks, batcher, turn } = setup();
    for (const tag of [1, 2, 3, 4]) batcher.received(tag);
    batcher.done(1);
    batcher.done(3);
    batcher.done(4);
    turn();
    expect(acks).toEqual([
      [1, true],
      [3, false],
      [4, false],
    ]);
    batcher.received(5);
    batcher.done(2);
    batcher.done(5);
    turn();
    // 3 and 4 are not acked twice: the multiple ack on 5 covers only 2 and 5 at the broker.
    expect(acks.slice(3)).toEqual([[5, true]]);
  });

  it('never names a nacked delivery in an ack, and sends none for a run of nacked ones', () => {
    const { acks, batcher, turn } = setup();
    for (const tag of [1, 2, 3]) batcher.received(tag);
    batcher.done(1);
    batcher.skip(2);
    batcher.skip(3);
    turn();
    expect(acks).toEqual([[1, true]]);
    batcher.received(4);
    batcher.skip(4);
    batcher.flush();
    expect(acks).toEqual([[1, true]]);
  });

  it('flush sends at once and cancels the scheduled turn', () => {
    const { acks, batcher, turn } = setup();
    batcher.received(1);
    batcher.done(1);
    batcher.flush();
    turn();
    expect(acks).toEqual([[1, true]]);
  });

  it('keeps working past many deliveries (the covered ones are dropped)', () => {
    const { acks, batcher, turn } = setup();
    for (let tag = 1; tag <= 5000; tag++) {
      batcher.received(tag);
      batcher.done(tag);
      if (tag % 100 === 0) turn();
    }
    turn();
    expect(acks.length).toBe(50);
    expect(acks.at(-1)).toEqual([5000, true]);
  });

  it('sends nothing once the channel is dead, and survives a channel that throws', () => {
    const { acks, batcher, turn, lose } = setup();
    batcher.received(1);
    batcher.done(1);
    lose();
    turn();
    expect(acks).toEqual([]);
    const throwing = new AckBatcher(
      {
        ack: () => {
          throw new Error('Channel closed');
        },
      },
      () => true,
      (flush) => {
        flush();
        return () => {};
      },
    );
    throwing.received(1);
    expect(() => throwing.done(1)).not.toThrow();
  });
});
