import { describe, expect, it } from 'vitest';
import { MemoryInbox } from './inbox';

describe('MemoryInbox', () => {
  it('remembers handled keys and forgets the oldest past its capacity', () => {
    const inbox = new MemoryInbox(2);
    inbox.add('a');
    inbox.add('b');
    inbox.add('a'); // already there: does not refresh or duplicate
    expect([inbox.has('a'), inbox.has('b'), inbox.size]).toEqual([true, true, 2]);
    inbox.add('c');
    expect([inbox.has('a'), inbox.has('b'), inbox.has('c'), inbox.size]).toEqual([false, true, true, 2]);
  });

  it('keeps exactly the last capacity keys however many times it wrapped around', () => {
    const inbox = new MemoryInbox(3);
    for (let i = 0; i < 10; i++) inbox.add(`k${i}`);
    const kept = Array.from({ length: 10 }, (_, i) => i).filter((i) => inbox.has(`k${i}`));
    expect([kept, inbox.size]).toEqual([[7, 8, 9], 3]);
  });
});
