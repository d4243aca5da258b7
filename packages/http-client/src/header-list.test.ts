import { describe, expect, it } from 'vitest';
import { headerIndex, setHeader } from './header-list';

describe('flat header lists', () => {
  it('finds names only at name positions, and replaces rather than repeats', () => {
    const list = ['x-a', 'x-b', 'x-b', '2'];
    expect(headerIndex(list, 'x-b')).toBe(2); // 'x-b' as the value of x-a does not count
    expect(headerIndex(list, 'x-c')).toBe(-1);
    setHeader(list, 'x-b', '3');
    setHeader(list, 'x-c', '4');
    expect(list).toEqual(['x-a', 'x-b', 'x-b', '3', 'x-c', '4']);
  });
});
