import { describe, expect, it } from 'vitest';
import { CircuitState } from './circuit-state';
import { CircuitStateMachine, type StateMachineSettings } from './circuit-state-machine';
import { ConsecutiveFailures } from './consecutive-failures';
import { manualClock } from './test-helpers';

const settings: StateMachineSettings = {
  successThreshold: 2,
  resetTimeoutMs: 100,
  halfOpenMaxConcurrent: 1,
  halfOpenMaxWaitMs: 1_000,
  windowed: false,
};

function machine(overrides: Partial<StateMachineSettings> = {}) {
  const { clock, advance } = manualClock(1_000);
  const moves: string[] = [];
  const m = new CircuitStateMachine({ ...settings, ...overrides }, new ConsecutiveFailures(2, true), clock, {
    transitioned: (from, to, reason) => moves.push(`${from}>${to}: ${reason}`),
  });
  return { m, clock, advance, moves };
}

describe('CircuitStateMachine', () => {
  it('opens at the trip rule, half-opens after the reset timeout, closes after enough probes', () => {
    const { m, clock, advance, moves } = machine();
    m.failed(m.epoch, false, false, clock.now());
    expect(m.state).toBe(CircuitState.CLOSED);
    m.failed(m.epoch, false, false, clock.now());
    expect(m.state).toBe(CircuitState.OPEN);
    expect(m.nextAttemptAt()).toBe(1_100);
    expect(m.admitProbe(clock.now())).toBe(false);
    advance(100);
    expect(m.admitProbe(clock.now())).toBe(true);
    expect(m.state).toBe(CircuitState.HALF_OPEN);
    // One slot: a second probe is refused while the first runs.
    expect(m.admitProbe(clock.now())).toBe(false);
    m.succeeded(m.epoch, true, false, clock.now());
    expect(m.admitProbe(clock.now())).toBe(true);
    m.succeeded(m.epoch, true, false, clock.now());
    expect(m.state).toBe(CircuitState.CLOSED);
    expect(moves).toEqual([
      'CLOSED>OPEN: 2 consecutive failures',
      'OPEN>HALF_OPEN: reset timeout elapsed',
      'HALF_OPEN>CLOSED: probes succeeded',
    ]);
  });

  it('ignores an outcome of an earlier epoch', () => {
    const { m, clock } = machine();
    const before = m.epoch;
    m.isolate();
    expect(m.epoch).not.toBe(before);
    m.reset();
    m.failed(before, false, false, clock.now());
    m.failed(before, false, false, clock.now());
    expect(m.state).toBe(CircuitState.CLOSED);
    expect(m.failures(clock.now())).toBe(0);
  });

  it('reopens, as of when the wait ran out, when a probe holds every slot for halfOpenMaxWaitMs', () => {
    const { m, clock, advance, moves } = machine();
    m.failed(m.epoch, false, false, clock.now());
    m.failed(m.epoch, false, false, clock.now());
    advance(100);
    expect(m.admitProbe(clock.now())).toBe(true);
    const probeEpoch = m.epoch;
    advance(1_000);
    expect(m.stateAt(clock.now())).toBe(CircuitState.OPEN);
    expect(m.nextAttemptAt()).toBe(1_100 + 1_000 + 100);
    // The stuck probe settles late: it frees nothing twice and counts for nothing.
    m.succeeded(probeEpoch, true, false, clock.now());
    expect(m.probes).toBe(0);
    expect(moves.at(-1)).toBe('HALF_OPEN>OPEN: probe did not settle');
  });

  it('frees a probe slot for an outcome that does not count, and reopens on a slow probe', () => {
    const { m, clock, advance } = machine();
    m.failed(m.epoch, false, false, clock.now());
    m.failed(m.epoch, false, false, clock.now());
    advance(100);
    expect(m.admitProbe(clock.now())).toBe(true);
    m.ignored(m.epoch, true);
    expect(m.probes).toBe(0);
    expect(m.admitProbe(clock.now())).toBe(true);
    m.succeeded(m.epoch, true, true, clock.now());
    expect(m.state).toBe(CircuitState.OPEN);
  });

  it('round-trips a snapshot', () => {
    const { m, clock } = machine();
    m.failed(m.epoch, false, false, clock.now());
    m.failed(m.epoch, false, false, clock.now());
    const snapshot = m.snapshot(clock.now());
    expect(snapshot).toEqual({ state: CircuitState.OPEN, isolated: false, openedAt: 1_000, failureCount: 0 });
    const { m: restored, clock: c2 } = machine();
    restored.restore(snapshot);
    expect(restored.stateAt(c2.now())).toBe(CircuitState.OPEN);
    expect(restored.nextAttemptAt()).toBe(1_100);
  });
});
