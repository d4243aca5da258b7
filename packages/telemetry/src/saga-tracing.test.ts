import { SagaOrchestrator } from '@clone/saga';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { parentOf, testTracing } from '../test/sdk';
import { traceSagaOrchestrator } from './saga-tracing';

describe('traceSagaOrchestrator', () => {
  it('makes a saga span with step and compensation spans as children; withStep parents the work', async () => {
    const t = testTracing();
    const o = new SagaOrchestrator();
    const tracing = traceSagaOrchestrator(o, { tracerProvider: t.tracerProvider });
    const inner = t.tracerProvider.getTracer('work');
    o.registerStepHandler('reserve', (_s, _c, exec) =>
      tracing.withStep(exec.sagaId, 'reserve', () => {
        inner.startSpan('stock call').end();
        return { ok: trace.getActiveSpan() !== undefined };
      }),
    );
    o.registerStepHandler('charge', () => {
      throw new Error('card declined');
    });
    o.registerCompensationHandler('release', () => undefined);
    const id = await o.startSaga(
      'order',
      [
        {
          id: 'reserve',
          name: 'reserve',
          service: 'stock',
          action: 'reserve',
          compensationAction: 'release',
        },
        {
          id: 'charge',
          name: 'charge',
          service: 'pay',
          action: 'charge',
          dependencies: ['reserve'],
          retryAttempts: 0,
        },
      ],
      {},
    );
    await o.waitForSaga(id);
    const saga = t.byName('saga order');
    const reserve = t.byName('step reserve');
    const charge = t.byName('step charge');
    const compensate = t.byName('compensate reserve');
    for (const child of [reserve, charge, compensate])
      expect(parentOf(child)).toBe(saga.spanContext().spanId);
    expect(parentOf(t.byName('stock call'))).toBe(reserve.spanContext().spanId);
    expect(charge.status.code).toBe(SpanStatusCode.ERROR);
    expect(saga.status).toEqual({ code: SpanStatusCode.ERROR, message: 'compensated' });
    tracing.stop();
    await o.close({ drainTimeoutMs: 0 });
    await t.close();
  });

  it('runs handlers inside their step span and compensations inside their compensation span, unasked', async () => {
    const t = testTracing();
    const o = new SagaOrchestrator({
      // One attempt per compensation: the test is about where it runs, not how often.
      compensationRetry: { execute: async (fn, signal) => fn({ signal: signal!, attempt: 1 }) },
    });
    const tracing = traceSagaOrchestrator(o, { tracerProvider: t.tracerProvider });
    const inner = t.tracerProvider.getTracer('work');
    let tries = 0;
    o.registerStepHandler('reserve', async () => {
      // After an await too: the step's context follows the handler's async work.
      await new Promise((resolve) => setImmediate(resolve));
      inner.startSpan(`stock call ${++tries}`).end();
      if (tries === 1) throw new Error('stock busy');
      return {};
    });
    o.registerStepHandler('charge', () => {
      inner.startSpan('pay call').end();
      throw new Error('card declined');
    });
    o.registerCompensationHandler('release', async () => {
      await Promise.resolve();
      inner.startSpan('release call').end();
    });
    const steps = [
      {
        id: 'reserve',
        name: 'reserve',
        service: 'stock',
        action: 'reserve',
        compensationAction: 'release',
        retryAttempts: 1,
      },
      { id: 'charge', name: 'charge', service: 'pay', action: 'charge', dependencies: ['reserve'] },
    ];
    await o.waitForSaga(await o.startSaga('order', steps, {}));
    const reserve = t.byName('step reserve').spanContext().spanId;
    expect(parentOf(t.byName('stock call 1'))).toBe(reserve);
    expect(parentOf(t.byName('stock call 2'))).toBe(reserve);
    expect(parentOf(t.byName('pay call'))).toBe(t.byName('step charge').spanContext().spanId);
    const compensate = t.byName('compensate reserve');
    expect(parentOf(compensate)).toBe(t.byName('saga order').spanContext().spanId);
    expect(parentOf(t.byName('release call'))).toBe(compensate.spanContext().spanId);

    // stop() removes the hook: a later saga's handlers run in no span of this tracing.
    tracing.stop();
    let active: unknown = 'unset';
    o.registerStepHandler('peek', () => {
      active = trace.getActiveSpan();
      return {};
    });
    await o.waitForSaga(
      await o.startSaga('later', [{ id: 'p', name: 'p', service: 's', action: 'peek' }], {}),
    );
    expect(active).toBeUndefined();
    await o.close({ drainTimeoutMs: 0 });
    await t.close();
  });
});
