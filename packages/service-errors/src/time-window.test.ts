import { describe, expect, it } from 'vitest';
import { TimeWindow } from './time-window';

describe('TimeWindow', () => {
  it('forgets outcomes older than the window, a bucket at a time', () => {
    const window = new TimeWindow(1000, 10);
    expect(window.calls(0)).toBe(0); // nothing allocated, nothing counted
    window.record(true, 0);
    window.record(false, 150);
    window.record(true, 950);
    expect([window.calls(999), window.hits(999)]).toEqual([3, 2]);
    expect([window.calls(1000), window.hits(1000)]).toEqual([2, 1]); // the bucket of 0 ms left
    expect([window.calls(1200), window.hits(1200)]).toEqual([1, 1]);
    expect(window.calls(5000)).toBe(0);
    window.record(false, 5000);
    window.clear();
    expect(window.calls(5000)).toBe(0);
  });
});
