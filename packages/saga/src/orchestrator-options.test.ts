import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { badRequestFrom } from '../test/bad-request';
import { SagaOrchestrator } from './orchestrator';

const TOO_LONG = 2 ** 31;
const orchestrators: SagaOrchestrator[] = [];

afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});

/** What constructing throws, a BAD_REQUEST; an orchestrator made by mistake is still closed. */
function badRequest(fn: () => unknown): Error {
  return badRequestFrom(() => {
    const o = fn();
    if (o instanceof SagaOrchestrator) orchestrators.push(o);
  });
}

describe('SagaOrchestrator options', () => {
  it('bounds every duration by what a timer holds, naming the field', () => {
    // A lease beyond 2^31-1 ms made the heartbeat (a third of it) fire at once, over and over.
    for (const field of ['leaseMs', 'defaultStepTimeoutMs', 'recoveryIntervalMs'] as const) {
      const error = badRequest(() => new SagaOrchestrator({ [field]: TOO_LONG }));
      expect(error.message).toContain(`${field} must be an integer number of milliseconds`);
      expect(error.message).toContain('2147483647');
    }
    expect(badRequest(() => new SagaOrchestrator({ leaseMs: 99 })).message).toContain('leaseMs');
    expect(badRequest(() => new SagaOrchestrator({ defaultStepTimeoutMs: 0.5 })).message).toContain(
      'defaultStepTimeoutMs',
    );
    const longest = new SagaOrchestrator({
      leaseMs: TOO_LONG - 1,
      defaultStepTimeoutMs: TOO_LONG - 1,
      recoveryIntervalMs: TOO_LONG - 1,
    });
    orchestrators.push(longest);
    expect(longest.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('bounds the drain timeout of close(), and stays open when it is refused', async () => {
    const o = new SagaOrchestrator();
    orchestrators.push(o);
    const error = await o.close({ drainTimeoutMs: TOO_LONG }).catch((e: unknown) => e);
    expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST), String(error)).toBe(true);
    expect((error as Error).message).toContain('drainTimeoutMs');
    o.registerStepHandler('a', () => 'A');
    const id = await o.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'a' }], {});
    expect((await o.waitForSaga(id)).status).toBe('completed');
  });

  it('takes clock and logger through the shared option schemas', () => {
    expect(badRequest(() => new SagaOrchestrator({ clock: {} as never })).message).toContain(
      'clock must be a Clock',
    );
    expect(badRequest(() => new SagaOrchestrator({ logger: { info() {} } as never })).message).toContain(
      'logger must be a Logger',
    );
  });

  it('makes its own id and saga ids with createId', async () => {
    let n = 0;
    const o = new SagaOrchestrator({ createId: () => `id-${++n}` });
    orchestrators.push(o);
    expect(o.id).toBe('id-1');
    o.registerStepHandler('a', (_s, _c, exec) => exec.idempotencyKey);
    const id = await o.startSaga('t', [{ id: 'a', name: 'a', service: 's', action: 'a' }], {});
    expect(id).toBe('id-2');
    expect((await o.waitForSaga(id)).stepResults.get('a')).toBe('id-2:a');
  });
});
