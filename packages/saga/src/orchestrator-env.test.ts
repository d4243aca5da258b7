import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { badRequestFrom } from '../test/bad-request';
import { ManualClock } from '../test/manual-clock';
import { InMemorySagaStore } from './memory-store';
import { SagaOrchestrator } from './orchestrator';

const orchestrators: SagaOrchestrator[] = [];
afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.close({ drainTimeoutMs: 0 })));
});

const step = (id: string) => ({ id, name: id, service: 's', action: id });

describe('SagaOrchestrator.fromEnv', () => {
  it('reads SAGA_STEP_TIMEOUT, SAGA_MAX_ACTIVE_SAGAS and SAGA_CLEANUP_INTERVAL, and means them', async () => {
    const clock = new ManualClock();
    const o = SagaOrchestrator.fromEnv(
      { SAGA_STEP_TIMEOUT: ' 2500 ', SAGA_MAX_ACTIVE_SAGAS: '1', SAGA_CLEANUP_INTERVAL: '7000' },
      { clock, store: new InMemorySagaStore({ clock }) },
    );
    orchestrators.push(o);
    let release!: () => void;
    o.registerStepHandler('hang', () => new Promise<void>((resolve) => (release = resolve)));
    const id = await o.startSaga('t', [step('hang')], {});
    // The step runs under the timeout from SAGA_STEP_TIMEOUT.
    expect(clock.pending(2500)).toHaveLength(1);
    // One saga active is the limit from SAGA_MAX_ACTIVE_SAGAS: the next is refused, clearly.
    const refused = await o.startSaga('t', [step('hang')], {}).catch((e: unknown) => e);
    expect(isServiceError(refused, ServiceErrorCode.BULKHEAD_FULL), String(refused)).toBe(true);
    expect((refused as Error).message).toBe('startSaga: 1 sagas are active, the limit is 1');
    expect((await o.healthCheck()).maxActiveSagas).toBe(1);
    release();
    expect((await o.waitForSaga(id)).status).toBe('completed');
    // Finished sagas are cleaned from memory every SAGA_CLEANUP_INTERVAL ms.
    expect(clock.pending(7000)).toMatchObject([{ unref: true }]);
    // The slot is free again.
    o.registerStepHandler('ok', () => 'ok');
    expect((await o.waitForSaga(await o.startSaga('t', [step('ok')], {}))).status).toBe('completed');
  });

  it('leaves unset or blank variables to the defaults, and overrides win', async () => {
    const defaults = SagaOrchestrator.fromEnv({ SAGA_MAX_ACTIVE_SAGAS: '  ' });
    orchestrators.push(defaults);
    expect((await defaults.healthCheck()).maxActiveSagas).toBe(100);
    const overridden = SagaOrchestrator.fromEnv({ SAGA_MAX_ACTIVE_SAGAS: '5' }, { maxActiveSagas: 7 });
    orchestrators.push(overridden);
    expect((await overridden.healthCheck()).maxActiveSagas).toBe(7);
  });

  it('refuses a value its option would refuse, or that is not a plain decimal, naming the variable', () => {
    const cases: Array<[string, string]> = [
      ['SAGA_STEP_TIMEOUT', '0'],
      ['SAGA_STEP_TIMEOUT', '2147483648'],
      ['SAGA_STEP_TIMEOUT', '1e3'],
      ['SAGA_STEP_TIMEOUT', '30s'],
      ['SAGA_MAX_ACTIVE_SAGAS', '0'],
      ['SAGA_MAX_ACTIVE_SAGAS', '1.5'],
      ['SAGA_MAX_ACTIVE_SAGAS', '0x10'],
      ['SAGA_CLEANUP_INTERVAL', '-1'],
      ['SAGA_CLEANUP_INTERVAL', '99999999999'],
      ['SAGA_CLEANUP_INTERVAL', 'Infinity'],
    ];
    for (const [variable, value] of cases) {
      const error = badRequestFrom(() => orchestrators.push(SagaOrchestrator.fromEnv({ [variable]: value })));
      expect(error.message).toContain(`SagaOrchestrator: ${variable} `);
      expect(error.message).toContain(`got "${value}"`);
    }
  });
});
