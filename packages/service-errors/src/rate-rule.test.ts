import { describe, expect, it } from 'vitest';
import { CountWindow } from './count-window';
import { RateRule } from './rate-rule';

describe('RateRule', () => {
  it('opens on the failure rate once the window holds minimumCalls', () => {
    const rule = new RateRule('failure', new CountWindow(10), 0.5, 4);
    expect(rule.record(true, false, false, 0)).toBeUndefined();
    expect(rule.record(true, false, false, 0)).toBeUndefined();
    expect(rule.record(true, false, false, 0)).toBeUndefined();
    expect(rule.record(false, false, false, 0)).toBe('failure rate 75.0%');
    expect([rule.failures(0), rule.calls(0)]).toEqual([3, 4]);
    rule.changed(false);
    expect(rule.calls(0)).toBe(4);
    rule.changed(true);
    expect(rule.calls(0)).toBe(0);
  });

  it('counts slow calls for the slow-call rate, and ignores probes', () => {
    const rule = new RateRule('slow call', new CountWindow(4), 1, 2);
    expect(rule.record(false, true, true, 0)).toBeUndefined();
    expect(rule.calls(0)).toBe(0);
    rule.record(true, true, false, 0);
    expect(rule.record(false, true, false, 0)).toBe('slow call rate 100.0%');
    expect(rule.failures(0)).toBe(0);
  });
});
