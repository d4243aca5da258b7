import { describe, expect, it } from 'vitest';
import { isCircuitFailure } from './circuit-breaker-options';
import { CircuitRecorder, UNTIMED } from './circuit-recorder';
import { CircuitState } from './circuit-state';
import { ConsecutiveFailures } from './consecutive-failures';
import { ServiceErrorCode } from './error-code';
import { noopLogger } from './logger';
import { isServiceError, ServiceError } from './service-error';
import { manualClock } from './test-helpers';

function recorder(isFailure = isCircuitFailure, slowCallDurationMs?: number) {
  const { clock, advance } = manualClock(1_000);
  const r = new CircuitRecorder(
    {
      successThreshold: 1,
      resetTimeoutMs: 100,
      halfOpenMaxConcurrent: 1,
      halfOpenMaxWaitMs: 1_000,
      windowed: false,
    },
    new ConsecutiveFailures(1, true),
    clock,
    noopLogger,
    { service: 'asr', isFailure, slowCallDurationMs, timedWindow: false },
  );
  const machine = r.machine;
  return { r, machine, clock, advance };
}

describe('CircuitRecorder', () => {
  it('counts what isFailure counts, ignores the rest, and hands the caller the error itself', () => {
    const { r, machine } = recorder();
    const notFound = new ServiceError(ServiceErrorCode.NOT_FOUND, 'no such user');
    expect(r.failed(notFound, UNTIMED, machine.epoch, false)).toBe(notFound);
    expect(machine.state).toBe(CircuitState.CLOSED);
    expect(r.totals()).toMatchObject({ totalIgnored: 1, totalFailures: 0 });
    const thrown = 'a string';
    expect(r.failed(thrown, UNTIMED, machine.epoch, false)).toBe(thrown);
    expect(machine.state).toBe(CircuitState.OPEN);
    expect(r.totals()).toMatchObject({ totalFailures: 1, lastFailureTime: 1_000 });
  });

  it('turns a throwing isFailure into INTERNAL_ERROR with the cause, and counts the failure', () => {
    const bug = new Error('bug');
    const { r, machine } = recorder(() => {
      throw bug;
    });
    const out = r.failed(new ServiceError(ServiceErrorCode.TIMEOUT, 'slow'), UNTIMED, machine.epoch, false);
    expect(isServiceError(out, ServiceErrorCode.INTERNAL_ERROR)).toBe(true);
    expect((out as ServiceError).cause).toBe(bug);
    expect(machine.state).toBe(CircuitState.OPEN);
    expect(r.totals()).toMatchObject({ totalFailures: 1, totalTimeouts: 1 });
  });

  it('times calls only when needed, and reports slow ones', () => {
    const { r, machine, clock, advance } = recorder(isCircuitFailure, 50);
    expect(r.measure).toBe(true);
    const durations: number[] = [];
    r.on('success', (e) => durations.push(e.durationMs));
    const start = clock.now();
    advance(60);
    r.succeeded(start, machine.epoch, false);
    expect(durations).toEqual([60]);
    // A slow success counts against a circuit without a window.
    expect(machine.state).toBe(CircuitState.OPEN);
    expect(recorder().r.measure).toBe(false);
  });

  it('builds the CIRCUIT_OPEN rejection with the wait until the next probe', () => {
    const { r, machine } = recorder();
    r.failed(new Error('down'), UNTIMED, machine.epoch, false);
    const error = r.rejected(1_040);
    expect(error.code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
    expect(error.retryAfterMs).toBe(60);
    expect(error.service).toBe('asr');
    expect(r.totals().totalRejections).toBe(1);
  });
});
