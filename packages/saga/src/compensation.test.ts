import { noopLogger, ServiceError, ServiceErrorCode, systemClock } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { type CompensationTask, runCompensations } from './compensation';

const task = (step: string, attempt: CompensationTask['attempt']): CompensationTask => ({
  step,
  label: `undo ${step}`,
  timeoutMs: undefined,
  retry: undefined,
  attempt,
});

describe('runCompensations', () => {
  it('runs in the given order, records failures and still runs the rest', async () => {
    const log: string[] = [];
    const hooks: string[] = [];
    const outcome = await runCompensations(
      [
        task('c', () => void log.push('c')),
        task('b', () => {
          throw new Error('cannot undo b');
        }),
        task('a', async () => void log.push('a')),
      ],
      {
        sagaId: 's',
        clock: systemClock,
        logger: noopLogger,
        starting: (t) => void hooks.push(`start ${t.step}`),
        settled: (t, error) => void hooks.push(`${t.step} ${error?.message ?? 'ok'}`),
      },
    );
    expect(log).toEqual(['c', 'a']);
    expect(outcome.compensated).toEqual(['c', 'a']);
    expect(outcome.failures.map((f) => [f.step, f.error.message])).toEqual([['b', 'cannot undo b']]);
    expect(outcome.failures[0]!.error).toBeInstanceOf(ServiceError);
    expect(hooks).toEqual(['start c', 'c ok', 'start b', 'b cannot undo b', 'start a', 'a ok']);
  });

  it('stops when a hook throws (the orchestrator letting go of the saga)', async () => {
    const ran: string[] = [];
    const stop = new ServiceError(ServiceErrorCode.CONFLICT, 'lease lost');
    const error = await runCompensations(
      [task('b', () => void ran.push('b')), task('a', () => void ran.push('a'))],
      {
        sagaId: 's',
        clock: systemClock,
        logger: noopLogger,
        settled: () => {
          throw stop;
        },
      },
    ).catch((e: unknown) => e);
    expect(error).toBe(stop);
    expect(ran).toEqual(['b']);
  });

  it('aborts the compensation in flight with the plan signal', async () => {
    const controller = new AbortController();
    const outcome = runCompensations(
      [
        task(
          'a',
          () => new Promise(() => controller.abort(new ServiceError(ServiceErrorCode.CANCELLED, 'gone'))),
        ),
      ],
      { sagaId: 's', clock: systemClock, logger: noopLogger, signal: controller.signal },
    );
    expect((await outcome).failures.map((f) => f.error.code)).toEqual([ServiceErrorCode.CANCELLED]);
  });
});
