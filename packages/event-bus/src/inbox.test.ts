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
});
