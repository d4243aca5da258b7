import { describe, expect, it } from 'vitest';
import { ConsecutiveFailures } from './consecutive-failures';

describe('ConsecutiveFailures', () => {
  it('opens at the threshold of failures in a row; a success clears the count', () => {
    const rule = new ConsecutiveFailures(3, false);
    expect(rule.record(true, false, false)).toBeUndefined();
    expect(rule.record(true, false, false)).toBeUndefined();
    expect(rule.record(false, false, false)).toBeUndefined();
    expect(rule.failures()).toBe(0);
    rule.record(true, false, false);
    rule.record(true, false, false);
    expect(rule.record(true, false, false)).toBe('3 consecutive failures');
    rule.changed(false, true);
    expect(rule.failures()).toBe(3); // kept while OPEN: it says why
    rule.changed(false, false);
    expect(rule.failures()).toBe(0);
  });

  it('counts a slow success as a failure only without a window, and never opens on a probe', () => {
    const unwindowed = new ConsecutiveFailures(2, true);
    unwindowed.record(false, true, false);
    expect(unwindowed.record(false, true, false)).toBe('slow calls');
    const windowed = new ConsecutiveFailures(2, false);
    windowed.record(false, true, false);
    expect(windowed.record(false, true, false)).toBeUndefined();
    const probe = new ConsecutiveFailures(1, false);
    expect(probe.record(true, false, true)).toBeUndefined();
    expect(probe.failures()).toBe(1);
  });
});
